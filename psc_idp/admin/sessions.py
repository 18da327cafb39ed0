"""Administrator sessions: a random cookie (path /admin, HttpOnly, Secure over https,
SameSite=Lax: the card login comes back from the TLS listener, another scheme hence another
site), its keyed hash in the database, a short idle timeout."""

from __future__ import annotations

import secrets
import uuid

from flask import Request, Response, current_app, request
from sqlalchemy import select

from psc_idp.admin.models import AdminSession
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import bound_token
from psc_idp.login.sessions import within_lifetimes
from psc_idp.timeutil import now
from psc_idp.tls.scheme import cookie_secure

COOKIE = "PSC_ADMIN"
#: Before login: binds the login form's CSRF token to this browser.
LOGIN_COOKIE = "PSC_ADMIN_LOGIN"
PATH = "/admin"


def _hash(value: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(value, "admin-cookie")


def alive(session: AdminSession | None) -> bool:
    settings = current_settings()
    return within_lifetimes(
        session, settings.admin_session_max_lifetime, settings.admin_session_idle_lifetime
    )


def current(req: Request) -> AdminSession | None:
    cookie = req.cookies.get(COOKIE)
    if not cookie or len(cookie) > 128:
        return None
    session = db.session.scalars(
        select(AdminSession).where(AdminSession.cookie_hash == _hash(cookie))
    ).first()
    return session if alive(session) else None


def open_session(login: str, method: str) -> tuple[AdminSession, str]:
    cookie = secrets.token_urlsafe(32)
    session = AdminSession(
        id=uuid.uuid4().hex, cookie_hash=_hash(cookie), login=login, method=method
    )
    db.session.add(session)
    return session, cookie


def csrf_token(session: AdminSession) -> str:
    return bound_token(session.id, "admin")


def login_csrf(browser: str) -> str:
    return bound_token(browser, "admin-login")


def _set(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=cookie_secure(request),
        samesite="Lax",
        path=PATH,
    )


def set_cookie(response: Response, cookie: str) -> None:
    _set(response, COOKIE, cookie, current_settings().admin_session_max_lifetime)


def clear_cookie(response: Response) -> None:
    response.delete_cookie(
        COOKIE, path=PATH, httponly=True, secure=cookie_secure(request), samesite="Lax"
    )


def login_browser() -> str:
    """This browser's login-form value: its cookie's, or a new one to set."""
    value = request.cookies.get(LOGIN_COOKIE, "")
    if 20 <= len(value) <= 64:
        return value
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, value: str) -> None:
    _set(response, LOGIN_COOKIE, value, 3600)


def touch(session: AdminSession) -> None:
    session.last_seen_at = now()
