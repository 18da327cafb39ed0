"""SSO sessions: a random cookie in the browser, its hash and the login facts in the database.

PSC (Keycloak) sessions last 4 h at most and end after 30 min without use."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask import Request, Response, current_app, request
from sqlalchemy import bindparam, select, update

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login import upstream_logout
from psc_idp.login.models import SsoSession
from psc_idp.prepared_sql import PreparedRead, PreparedWrite
from psc_idp.timeutil import now
from psc_idp.tls.scheme import cookie_secure

COOKIE = "PSC_SESSION"


def _hash(value: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(value, "sso-cookie")


def _alive(session: Any) -> bool:
    """``session``: an SsoSession or a row of its ended/created/last seen times."""
    settings = current_settings()
    return within_lifetimes(session, settings.sso_max_lifetime, settings.sso_idle_lifetime)


def within_lifetimes(session: Any, max_lifetime: int, idle_lifetime: int) -> bool:
    """A session (anything with ``ended_at``, ``created_at``, ``last_seen_at``) not ended,
    younger than ``max_lifetime`` and seen within ``idle_lifetime`` seconds."""
    if session is None or session.ended_at is not None:
        return False
    moment = now()
    return (
        session.created_at + timedelta(seconds=max_lifetime) > moment
        and session.last_seen_at + timedelta(seconds=idle_lifetime) > moment
    )


def current_session(request: Request) -> SsoSession | None:
    """The browser's live SSO session, if any."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or len(cookie) > 128:
        return None
    session = db.session.execute(
        select(SsoSession).where(SsoSession.cookie_hash == _hash(cookie))
    ).scalar_one_or_none()
    return session if _alive(session) else None


_LIFETIME = PreparedRead(
    select(SsoSession.ended_at, SsoSession.created_at, SsoSession.last_seen_at).where(
        SsoSession.id == bindparam("sid")
    )
)
_TOUCH = PreparedWrite(
    update(SsoSession.__table__)
    .where(SsoSession.__table__.c.id == bindparam("sid"))
    .values(last_seen_at=bindparam("seen"))
)


def session_is_active(sid: str) -> bool:
    """Whether the session ``sid`` is alive (read only: the refresh path's check)."""
    return _alive(_LIFETIME.first(db.session.connection(), sid=sid))


def open_session(
    national_id: str,
    auth_mode: str,
    acr: str,
    auth_time: int,
    session_id: str | None = None,
    amr: str = "",
    upstream: dict[str, str] | None = None,
) -> tuple[SsoSession, str]:
    cookie = secrets.token_urlsafe(32)
    session_id = session_id or str(uuid.uuid4())
    session = SsoSession(
        id=session_id,
        cookie_hash=_hash(cookie),
        national_id=national_id,
        auth_mode=auth_mode,
        acr=acr,
        auth_time=auth_time,
        amr=amr or None,
        upstream=upstream_logout.seal(session_id, upstream) if upstream else None,
    )
    db.session.add(session)
    return session, cookie


def touch(session: SsoSession) -> None:
    session.last_seen_at = now()


def touch_session(sid: str) -> None:
    """Keep the session ``sid`` alive: one UPDATE, committed with the caller's work."""
    _TOUCH.execute(db.session.connection(), sid=sid, seen=now())


def end_session(session: SsoSession) -> None:
    session.ended_at = now()


def set_cookie(response: Response, cookie: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=current_settings().sso_max_lifetime,
        httponly=True,
        secure=cookie_secure(request),
        samesite="Lax",
        path="/",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, secure=cookie_secure(request), samesite="Lax"
    )
