"""Pending logins and SSO sessions, stored so that any instance can continue them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class LoginStatus(StrEnum):
    """Where a login stands; changed by ``login/`` (and, once, by the resume of the protocol)."""

    PENDING = "pending"
    AUTHENTICATED = "authenticated"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"


class LoginTransaction(db.Model):
    """An authorization request waiting for the professional to log in (or, with no browser
    bound to it, a CIBA request: ``login.headless``).

    The validated request is stored here under a random id (never replayed from a cookie or the
    browser); the login UI reports who logged in and how, then the protocol resumes it."""

    __tablename__ = "login_transaction"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    client_name: Mapped[str] = mapped_column(String(255), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Hash of the browser-binding cookie: only the browser that started the login may finish it.
    browser_hash: Mapped[str] = mapped_column(String(128))
    csrf_token: Mapped[str] = mapped_column(String(64))
    #: ``acr`` values that satisfy the request (empty: any).
    acceptable_acrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    login_hint: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default=LoginStatus.PENDING)
    failures: Mapped[int] = mapped_column(default=0)
    national_id: Mapped[str | None] = mapped_column(String(64))
    auth_mode: Mapped[str | None] = mapped_column(String(20))
    acr: Mapped[str | None] = mapped_column(String(20))
    auth_time: Mapped[int | None]
    #: ``amr`` of the login, space-separated, when the means reports one (FI Tiers).
    amr: Mapped[str | None] = mapped_column(String(255))
    sid: Mapped[str | None] = mapped_column(String(64))
    #: Set for logins to the wallet itself (account page): where to go once logged in, instead
    #: of resuming an authorization request.
    return_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoSession(db.Model):
    """The professional's single sign-on session (Keycloak user session); its id is ``sid`` and
    ``session_state`` in tokens."""

    __tablename__ = "sso_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cookie_hash: Mapped[str] = mapped_column(String(128), unique=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    auth_mode: Mapped[str] = mapped_column(String(20))
    acr: Mapped[str] = mapped_column(String(20))
    auth_time: Mapped[int]
    amr: Mapped[str | None] = mapped_column(String(255))
    #: Sealed: what ending the session at another provider takes (``login.upstream_logout``).
    upstream: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
