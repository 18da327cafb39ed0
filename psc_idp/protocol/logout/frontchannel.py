"""Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the page that ends an SSO
session loads, in hidden iframes, the ``frontchannel_logout_uri`` of every client that received
tokens in it, with ``iss`` and ``sid`` when the client asks for them (§2, §3); the browser then
goes on to the ``post_logout_redirect_uri``.

The page's own Content-Security-Policy allows those frames' origins only (``frame_policy``):
every other response keeps ``default-src 'self'``."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from sqlalchemy import select

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.http.headers import CONTENT_SECURITY_POLICY
from psc_idp.protocol.models import Client, Grant


def frame_urls(sid: str) -> list[str]:
    """The iframes' URLs for the session ``sid``, one per client, in client order."""
    clients = db.session.scalars(
        select(Client)
        .where(
            Client.client_id.in_(select(Grant.client_id).where(Grant.sid == sid)),
            Client.frontchannel_logout_uri.is_not(None),
        )
        .order_by(Client.client_id)
    ).all()
    issuer = current_settings().issuer
    urls = []
    for client in clients:
        uri = client.frontchannel_logout_uri
        if client.frontchannel_logout_session_required:
            uri = add_params_to_uri(uri, [("iss", issuer), ("sid", sid)])
        urls.append(uri)
    return urls


def frame_policy(urls: list[str]) -> str:
    """The default policy, with ``frame-src`` opened to the frames' origins (nothing else)."""
    # Registration admitted plain hosts and ports only (clients.logout_uri_problem).
    origins = dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, urls))
    return f"{CONTENT_SECURITY_POLICY}; frame-src {' '.join(origins)}"
