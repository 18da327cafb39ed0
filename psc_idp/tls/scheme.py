"""Whether a request reached psc-idp over HTTPS: on its own TLS listener (werkzeug sets the
WSGI scheme), or through a proxy in ``PSC_TRUSTED_PROXIES`` that says so in
``X-Forwarded-Proto`` (the server's workers also set the WSGI scheme from it,
``http/prepared.py``). The app itself decides, so that any server in front gives the same
answer (HSTS, ``Secure`` cookies)."""

from __future__ import annotations

from flask import Request

from psc_idp.config import current_settings
from psc_idp.tls.presented import from_trusted_proxy

FORWARDED_PROTO = "X-Forwarded-Proto"


def request_is_https(request: Request) -> bool:
    if request.scheme == "https":
        return True
    # A proxy chain may list several values: the first one is the client's own hop.
    forwarded = request.headers.get(FORWARDED_PROTO, "").split(",")[0].strip().lower()
    return forwarded == "https" and from_trusted_proxy(request)


def cookie_secure(request: Request) -> bool:
    """``Secure`` on a cookie: always when configured (https base URL), and on any https
    request, so the own TLS listener's cookies never travel in clear afterwards."""
    return current_settings().cookie_secure or request_is_https(request)
