"""A backchannel authentication request, from the client's call to the tokens it yields."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class CibaRequest(db.Model):
    __tablename__ = "ciba_request"

    #: Public id, shown to the professional's devices and pages (never the auth_req_id).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Keyed hash of the ``auth_req_id`` given to the client.
    auth_req_hash: Mapped[str] = mapped_column(String(128), unique=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    binding_message: Mapped[str] = mapped_column(String(100), default="")
    #: PSC's ``channel``, one a means registered (``login.headless``): the e-CPS's, the card's.
    channel: Mapped[str] = mapped_column(String(10))
    #: ``pending``, ``approved``, ``denied``, ``issued`` (expiry is computed from expires_at)
    #: ``approval.CibaStatus``, changed by ``approval`` only.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    #: The means's own reference for the request's login (the e-CPS push); the login itself
    #: shares this request's ``id``.
    push_id: Mapped[str | None] = mapped_column(String(64))
    interval: Mapped[int] = mapped_column(default=5)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auth_time: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Ping mode: the client's bearer for the notification (up to 1024 characters), sealed
    #: at rest (ciba/ping.py), and when it was delivered.
    notification_token: Mapped[str | None] = mapped_column(Text)
    #: Ping clients only: the ping must name the request; sealed too, as it is sent back.
    ping_auth_req_id: Mapped[str | None] = mapped_column(String(128))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_attempts: Mapped[int] = mapped_column(default=0)
    next_notify_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
