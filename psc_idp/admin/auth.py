"""Logging in to the console: login, password and TOTP code, or the CPS card through the
wallet's own login (``login.account``); failures locked out per login (``lockout``, kind
``admin``) and limited per address (``rate_limits``); logout."""

from __future__ import annotations

from flask import make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp import audit, lockout, rate_limits
from psc_idp.admin import accounts, sessions
from psc_idp.admin.blueprint import admin, audited, bp, page
from psc_idp.admin.models import AdminAccount
from psc_idp.extensions import db
from psc_idp.http.address import client_address
from psc_idp.login.account import session_or_login
from psc_idp.login.csrf import same_token
from psc_idp.means.card.authenticator import AUTH_MODE as CARD
from psc_idp.timeutil import now

#: The lockout's subject kind for administrators' logins.
LOCKOUT_KIND = "admin"
LOGIN_FAILED = "admin_login_failed"
LOGIN_SUCCEEDED = "admin_login"
LOGGED_OUT = "admin_logout"
WRONG = "Identifiant, mot de passe ou code à usage unique incorrect."
LOCKED = (
    "Trop d'échecs pour cet identifiant : la connexion est suspendue un moment. "
    "Réessayez plus tard (ou « psc-idp unlock --all » pour lever le verrouillage)."
)
EXPIRED = "Le formulaire a expiré : rechargez la page et recommencez."


def _login_form(error: str = "", login: str = "", status: int = 200) -> ResponseReturnValue:
    browser = sessions.login_browser()
    response = make_response(
        page("login.html", error=error, login=login, login_csrf=sessions.login_csrf(browser)),
        status,
    )
    if request.cookies.get(sessions.LOGIN_COOKIE) != browser:
        sessions.set_login_cookie(response, browser)
    return response


def _login_csrf_ok() -> bool:
    browser = request.cookies.get(sessions.LOGIN_COOKIE, "")
    return bool(browser) and same_token(
        request.form.get("csrf_token"), sessions.login_csrf(browser)
    )


@bp.get("/login")
def login_page() -> ResponseReturnValue:
    if sessions.current(request) is not None:
        return redirect(url_for("admin.home"))
    return _login_form()


def _failed(login: str, reason: str, national_id: str | None = None) -> None:
    audit.record(
        LOGIN_FAILED, national_id, means="admin", outcome="failure", login=login, reason=reason
    )
    db.session.commit()


@bp.post("/login")
def login() -> ResponseReturnValue:
    if not _login_csrf_ok():
        return _login_form(EXPIRED, status=400)
    rate_limits.enforce("admin_login_ip", client_address(request))
    login = str(request.form.get("login", "")).strip().lower()[:64]
    password = str(request.form.get("password", ""))[: accounts.MAX_PASSWORD]
    code = str(request.form.get("code", ""))[:16]
    if not login or not password or not code:
        return _login_form("Renseignez l'identifiant, le mot de passe et le code.", login, 400)
    if lockout.is_locked(LOCKOUT_KIND, login):
        _failed(login, "locked")
        return _login_form(LOCKED, login, 429)
    account = accounts.find(login)
    stored = account.password_hash if account else accounts.dummy_hash()
    password_ok = accounts.verify_password(password, stored) and account is not None
    # The code is spent only after a right password: a wrong password never burns a step.
    if not password_ok or not accounts.check_totp(account, code):
        reason = "password" if not password_ok else "totp"
        db.session.rollback()
        if accounts.LOGIN.match(login):
            lockout.fail(LOCKOUT_KIND, login, reason)
        _failed(login, reason)
        return _login_form(WRONG, login, 401)
    return _logged_in(account, "password+totp")


def _logged_in(account: AdminAccount, method: str) -> ResponseReturnValue:
    lockout.succeed(LOCKOUT_KIND, account.login, lockout.check(LOCKOUT_KIND, account.login))
    session, cookie = sessions.open_session(account.login, method)
    account.last_login_at = now()
    audit.record(
        LOGIN_SUCCEEDED,
        account.national_id,
        means="admin",
        outcome="success",
        actor=account.login,
        method=method,
    )
    db.session.commit()
    response = redirect(url_for("admin.home"))
    sessions.set_cookie(response, cookie)
    return response


@bp.post("/login/card")
def card_start() -> ResponseReturnValue:
    """The card login: the wallet's login with the card (la mire, mutual TLS), coming back to
    ``card_return``; at once if this browser holds a card session already."""
    if not _login_csrf_ok():
        return _login_form(EXPIRED, status=400)
    rate_limits.enforce("admin_login_ip", client_address(request))
    return _card(url_for("admin.card_return"))


@bp.get("/login/card/return")
def card_return() -> ResponseReturnValue:
    if not request.cookies.get(sessions.LOGIN_COOKIE):
        # Not started from the console's login page (its cookie is path-bound and short).
        return redirect(url_for("admin.login_page"))
    return _card(url_for("admin.card_return"))


def _card(return_to: str) -> ResponseReturnValue:
    session, login_redirect = session_or_login(return_to, CARD)
    if login_redirect is not None:
        return login_redirect
    account = accounts.by_national_id(session.national_id)
    if account is None:
        _failed("", "card_not_admin", session.national_id)
        return _login_form(
            "Cette carte CPS n'est celle d'aucun administrateur de la console.", status=403
        )
    if lockout.is_locked(LOCKOUT_KIND, account.login):
        _failed(account.login, "locked", session.national_id)
        return _login_form(LOCKED, account.login, 429)
    return _logged_in(account, "card")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session = admin()
    session.ended_at = now()
    audited(LOGGED_OUT)
    db.session.commit()
    response = redirect(url_for("admin.login_page"))
    sessions.clear_cookie(response)
    return response


@bp.get("/")
def home() -> ResponseReturnValue:
    return page("home.html")
