"""A login through another provider (FI Tiers) leaves a session open there. What ending it
takes (that provider's ID token, say) is kept sealed with the SSO session; at logout the
protocol asks here where the browser must go, and the means that opened the session answers
(its provider's RP-initiated logout). The protocol names no means: each registers its kind."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask, current_app

from psc_idp.login.models import SsoSession

KEY = "psc_upstream_logout"
#: ``handler(data, post_logout_redirect_uri, state)``: the URL that ends the upstream session
#: and comes back to ``post_logout_redirect_uri`` with ``state``; None if there is none.
Handler = Callable[[dict[str, str], str, str], str | None]


def register(app: Flask, kind: str, handler: Handler) -> None:
    app.extensions.setdefault(KEY, {})[kind] = handler


def _purpose(session_id: str) -> str:
    # Bound to the session: a sealed value copied onto another session does not open.
    return f"sso-upstream\0{session_id}"


def seal(session_id: str, upstream: dict[str, str]) -> str:
    """``upstream`` names its ``kind`` (the registered handler) and what that handler needs."""
    secret = current_app.extensions["psc_app_secret"]
    return secret.seal(json.dumps(upstream), _purpose(session_id))


def take_logout_url(session: SsoSession, post_logout_redirect_uri: str, state: str) -> str | None:
    """Where the browser goes to end ``session``'s upstream session, if it has one; what was
    kept of it is dropped (the caller commits), so a logout uses it once."""
    sealed, session.upstream = session.upstream, None
    if not sealed:
        return None
    try:
        opened = current_app.extensions["psc_app_secret"].unseal(sealed, _purpose(session.id))
        data = json.loads(opened)
    except ValueError:
        return None  # another app secret: the local logout still happens
    handler = current_app.extensions.get(KEY, {}).get(data.get("kind"))
    return handler(data, post_logout_redirect_uri, state) if handler else None
