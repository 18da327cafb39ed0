"""What the error page says about a ``redirect_uri`` that matched no registered one.

In development mode the page shows the URI received beside the registered ones: the usual
integration mistake (a port, a trailing slash, http for https) is then seen at a glance. In
production it shows neither, as PSC: the list would disclose a service's configuration to
anyone, and echoing the received text would let a link put words on the IdP's page."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from flask import current_app

from psc_idp.config import current_settings

#: Longest received URI shown; the rest is cut (a page is no place for a 64 KB query).
SHOWN_CHARS = 500


def redirect_check(oauth_request: OAuth2Request) -> dict[str, Any] | None:
    """``{"received", "registered"}`` when the request's redirect URI is the problem, in
    development mode; ``None`` otherwise."""
    if not current_settings().dev_mode:
        return None
    server = current_app.extensions["psc_authorization_server"]
    client = server.query_client(oauth_request.payload.client_id)
    if client is None:
        return None
    received = oauth_request.payload.redirect_uri
    registered = list(client.redirect_uris or [])
    if received and client.check_redirect_uri(received):
        return None
    if not received and len(registered) == 1:
        return None  # the only registered URI is used: not the problem
    shown = "".join(c for c in (received or "")[:SHOWN_CHARS] if c.isprintable())
    return {"received": shown, "cut": len(received or "") > SHOWN_CHARS, "registered": registered}
