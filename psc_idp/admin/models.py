"""What the admin console persists: administrators, their sessions, the TOTP steps used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class AdminAccount(db.Model):
    """An administrator: a password (scrypt), a TOTP secret (sealed with the app secret, so it
    can be read back to check a code), and optionally the national id of their CPS card."""

    __tablename__ = "admin_account"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_sealed: Mapped[str] = mapped_column(Text)
    national_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdminSession(db.Model):
    """A logged-in administrator's browser: the cookie's keyed hash, never the cookie."""

    __tablename__ = "admin_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cookie_hash: Mapped[str] = mapped_column(String(128), unique=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    #: ``password+totp`` or ``card``.
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdminTotpStep(db.Model):
    """A TOTP time step already accepted for an administrator: the primary key makes a second
    use of the same code fail at the insert, whichever instance sees it."""

    __tablename__ = "admin_totp_step"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
