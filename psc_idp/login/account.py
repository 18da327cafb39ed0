"""A login to the wallet itself (the account space and the means' set-up pages): the SSO
session, or a login transaction that comes back to the page instead of resuming an
authorization request."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import bound_token
from psc_idp.login.models import SsoSession
from psc_idp.login.sessions import current_session, touch
from psc_idp.login.transactions import browser_cookie, create_transaction, set_browser_cookie

WALLET_CLIENT = "wallet"
WALLET_CLIENT_NAME = "Espace personnel Pro Santé Connect"


def account_csrf(session: SsoSession) -> str:
    return bound_token(session.id, "account")


def session_or_login(
    return_to: str, auth_mode: str | None = None
) -> tuple[SsoSession | None, ResponseReturnValue | None]:
    """The SSO session, or a redirect to a wallet login that comes back to ``return_to``.
    ``auth_mode``: the session must have been opened with that means (its level is asked)."""
    session = current_session(request)
    if session is not None and (auth_mode is None or session.auth_mode == auth_mode):
        touch(session)
        return session, None
    acrs = [current_settings().acr_by_auth_mode[auth_mode]] if auth_mode else []
    browser = browser_cookie(request)
    tx = create_transaction(WALLET_CLIENT, WALLET_CLIENT_NAME, {}, acrs, browser)
    tx.return_to = return_to
    db.session.commit()
    response = redirect(url_for("wallet.login_page", tx_id=tx.id))
    set_browser_cookie(response, browser)
    return None, response
