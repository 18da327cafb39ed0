"""Pending logins: created by the authorization endpoint, finished by an authenticator.

A transaction is bound to the browser that started it (a random cookie whose hash is stored) and
every form posted within it carries its CSRF token. The cookie's value is always one this
server issued (random part and its MAC with the app secret): a value chosen elsewhere — planted
by another site or a neighbouring subdomain — is replaced, never adopted as the binding."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Request, Response, current_app, request

from psc_idp.atomic import claim
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import same_token
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.timeutil import now
from psc_idp.tls.scheme import cookie_secure

BROWSER_COOKIE = "PSC_LOGIN"
#: Failed attempts in one login (wrong identity, refused means…) before it is abandoned.
MAX_FAILURES = 5


class TransactionError(Exception):
    """The login cannot go on; ``message`` is shown to the professional (French)."""

    def __init__(self, message: str, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class LoginOutcome:
    """What an authenticator established: who logged in, how, and when."""

    national_id: str
    auth_mode: str
    acr: str
    auth_time: int
    #: The authentication methods behind it, space-separated (an establishment's ``amr``);
    #: empty for psc-idp's own means, whose ``authMode`` says it.
    amr: str = ""
    #: What ending the session at another provider takes (``login.upstream_logout``), kept
    #: sealed with the SSO session; None for psc-idp's own means.
    upstream: dict[str, str] | None = None


def _hash(value: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(value, "login-browser")


def _issued_mac(token: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(token, "login-browser-issued")


def issued_browser_cookie(req: Request) -> str | None:
    """The browser's login cookie if this server issued it, else None."""
    token, dot, mac = req.cookies.get(BROWSER_COOKIE, "").partition(".")
    if not dot or len(token) != 43 or not same_token(mac, _issued_mac(token)):
        return None
    return f"{token}.{mac}"


def browser_cookie(req: Request) -> str:
    """The login cookie to bind a new transaction to: the browser's own if issued here (its
    other tabs keep their logins), a new one otherwise."""
    issued = issued_browser_cookie(req)
    if issued is not None:
        return issued
    token = secrets.token_urlsafe(32)
    return f"{token}.{_issued_mac(token)}"


def set_browser_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        BROWSER_COOKIE,
        value,
        httponly=True,
        secure=cookie_secure(request),
        samesite="Lax",
        path="/",
    )


def create_transaction(
    client_id: str,
    client_name: str,
    params: dict[str, Any],
    acceptable_acrs: list[str],
    browser: str,
) -> LoginTransaction:
    tx = LoginTransaction(
        id=secrets.token_urlsafe(24),
        client_id=client_id,
        client_name=client_name,
        params=params,
        browser_hash=_hash(browser),
        csrf_token=secrets.token_urlsafe(24),
        acceptable_acrs=acceptable_acrs,
        login_hint=(params.get("login_hint") or "")[:255],
        expires_at=now() + timedelta(seconds=current_settings().login_lifetime),
    )
    db.session.add(tx)
    return tx


def load_transaction(
    tx_id: str, request: Request, statuses: tuple[str, ...] = (LoginStatus.PENDING,)
) -> LoginTransaction:
    """The transaction, if this browser owns it, it is still alive and in one of ``statuses``."""
    tx = db.session.get(LoginTransaction, tx_id[:64])  # a NUL was refused by http.guard
    cookie = request.cookies.get(BROWSER_COOKIE, "")
    if tx is None or not hmac.compare_digest(_hash(cookie), tx.browser_hash):
        raise TransactionError(
            "Cette demande de connexion est inconnue ou a été ouverte dans un autre navigateur.",
            "unknown_transaction",
        )
    if tx.expires_at < now():
        raise TransactionError(
            "Le délai de connexion est dépassé. Retournez sur le service pour recommencer.",
            "expired_transaction",
        )
    if tx.status not in statuses:
        raise TransactionError(
            "Cette demande de connexion a déjà été traitée. Retournez sur le service.",
            "used_transaction",
        )
    return tx


def check_csrf(tx: LoginTransaction, form: dict[str, str] | Any) -> None:
    if not same_token(form.get("csrf_token", ""), tx.csrf_token):
        raise TransactionError(
            "Le formulaire a expiré ou n'a pas été envoyé depuis cette page. Veuillez réessayer.",
            "csrf",
        )


def acr_is_acceptable(tx: LoginTransaction, acr: str) -> bool:
    return not tx.acceptable_acrs or acr in tx.acceptable_acrs


def record_failure(tx: LoginTransaction) -> bool:
    """Count a failed attempt; True when the login must now be abandoned (lockout)."""
    tx.failures += 1
    if tx.failures >= MAX_FAILURES:
        tx.status = LoginStatus.FAILED
        return True
    return False


def resume_once(tx: LoginTransaction) -> bool:
    """Its end (authenticated, cancelled, failed) → ``done``, once: of two resumes of the same
    transaction (a reload, a second tab) only one goes on."""
    return claim(LoginTransaction, tx.id, tx.status, LoginStatus.DONE)


def end_transaction(tx: LoginTransaction, status: LoginStatus) -> None:
    """The login stops here: ``cancelled``, ``failed`` or (a wallet login) ``done``."""
    tx.status = status


def mark_authenticated(tx: LoginTransaction, outcome: LoginOutcome, sid: str) -> None:
    tx.status = LoginStatus.AUTHENTICATED
    tx.national_id = outcome.national_id
    tx.auth_mode = outcome.auth_mode
    tx.acr = outcome.acr
    tx.auth_time = outcome.auth_time
    tx.amr = outcome.amr or None
    tx.sid = sid
