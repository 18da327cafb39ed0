"""Security headers on every response, pages and JSON alike (one ``after_request`` hook).

- ``Content-Security-Policy``: scripts and styles from this origin only, no inline script or
  style (the pages keep theirs in ``static/``), no plugin, no ``<base>``, no framing (the card
  CIBA approval and the account pages must not be clickjacked). ``form-action`` is left out on
  purpose: the form_post response mode posts to the client's origin, and browsers apply
  ``form-action`` to the redirects that follow a form too (login → resume → client, logout
  confirmation → post_logout_redirect_uri), so any value short of ``*`` would break them.
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
- ``Referrer-Policy: no-referrer`` (Keycloak's default): codes and states in URLs stay here.
- ``X-Content-Type-Options: nosniff``.
- ``Strict-Transport-Security`` on https requests (own listener or a trusted proxy), when the
  public base URL is https: a development set-up on ``http://`` would otherwise see its
  browsers forced to https on the plain port of the same host.

A view may send a stricter policy of its own (the /ecps simulator does); the hook keeps it."""

from __future__ import annotations

from flask import Flask, Response, request

from psc_idp.config import Settings, current_settings
from psc_idp.tls.scheme import request_is_https

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for name, value in HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)  # appends (``set`` first removes every occurrence)
    hsts = strict_transport(current_settings())
    if hsts and request_is_https(request):
        response.headers["Strict-Transport-Security"] = hsts
    return response


def strict_transport(settings: Settings) -> str:
    """The HSTS value for an https request; "" when none is sent (an http base URL)."""
    if settings.hsts_max_age > 0 and settings.base_url.startswith("https://"):
        return f"max-age={settings.hsts_max_age}"
    return ""


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
