"""Whether a request reached psc-idp over HTTPS: on its own TLS listener (werkzeug sets the
WSGI scheme), or through a proxy that says so in ``X-Forwarded-Proto``: one in
``PSC_TRUSTED_PROXIES``, or one on this host (loopback, the usual nginx beside psc-idp). The
app itself decides, so that any server in front gives the same answer (HSTS, ``Secure``
cookies). Believing the header can only make psc-idp stricter; the client-certificate headers
are believed from ``PSC_TRUSTED_PROXIES`` alone (``presented.py``)."""

from __future__ import annotations

import ipaddress

from flask import Request

from psc_idp.config import current_settings
from psc_idp.tls.presented import from_trusted_proxy

FORWARDED_PROTO = "X-Forwarded-Proto"


def request_is_https(request: Request) -> bool:
    if request.scheme == "https":
        return True
    # A proxy chain may list several values: the first one is the client's own hop.
    forwarded = request.headers.get(FORWARDED_PROTO, "").split(",")[0].strip().lower()
    return forwarded == "https" and (_loopback(request) or from_trusted_proxy(request))


def _loopback(request: Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def cookie_secure(request: Request) -> bool:
    """``Secure`` on a cookie: always when configured (https base URL), and on any https
    request, so the own TLS listener's cookies never travel in clear afterwards."""
    return current_settings().cookie_secure or request_is_https(request)
