"""Values accepted once (``jti`` of client assertions, of device calls and decisions).

Each value is stored (keyed hash) until it could no longer be accepted anyway; a second
insertion fails on the primary key, atomically on every database and across instances."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import String, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, from_epoch


class SeenOnce(db.Model):
    __tablename__ = "seen_once"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def accept_once(value: str, until_epoch: float) -> bool:
    """True the first time ``value`` is presented, False afterwards.

    Recorded in a transaction of its own: a value is spent once seen, even when the request
    then fails and rolls back, or never commits."""
    key = current_app.extensions["psc_app_secret"].keyed_hash(value, "seen-once")
    until = from_epoch(float(until_epoch))
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(SeenOnce).values(key=key, expires_at=until))
    except IntegrityError:
        return False
    return True
