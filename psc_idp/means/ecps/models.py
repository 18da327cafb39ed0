"""What the e-CPS service persists: devices, activations, push requests, scenarios, outbox.

A device's private key never leaves the device; only its public key (JWK) is stored here. The
PIN is stored as a salted slow hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class DeviceStatus(StrEnum):
    """Changed by ``devices`` only."""

    ACTIVE = "active"
    LOCKED = "locked"  # 3 wrong PINs: activate again
    REVOKED = "revoked"


class PushStatus(StrEnum):
    """Changed by ``pushes`` only. ``expired`` is never stored: computed from ``expires_at``."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class EcpsDevice(db.Model):
    __tablename__ = "ecps_device"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    platform: Mapped[str] = mapped_column(String(40), default="")
    #: ``contact`` (e-mail + SMS codes), ``card`` (CPS card page), ``cli`` (psc-idp ecps activate)
    activation_mode: Mapped[str] = mapped_column(String(20))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    pin_hash: Mapped[str] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(default=0)
    #: ``active``, ``locked`` (3 wrong PINs: activate again) or ``revoked``
    status: Mapped[str] = mapped_column(String(20), default=DeviceStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EcpsActivation(db.Model):
    """An activation in progress: one-time codes sent to the registered e-mail and phone."""

    __tablename__ = "ecps_activation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: None when the national id is unknown: the activation then can never succeed, but looks
    #: the same from outside (no enumeration of professionals).
    national_id: Mapped[str | None] = mapped_column(String(64))
    #: Keyed hash of the typed national id and, when known, the directory's e-mail and phone:
    #: a second request for the same target reuses a live activation instead of sending again.
    target_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    email_code_hash: Mapped[str | None] = mapped_column(String(128))
    sms_code_hash: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EcpsPush(db.Model):
    """A request sent to the professional's devices: approve a login, a CIBA request, an
    enrolment. Decided once, by one device (or a realm scenario)."""

    __tablename__ = "ecps_push"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    #: ``login``, ``ciba`` or ``enrolment``
    kind: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[str] = mapped_column(String(255), default="")
    client_name: Mapped[str] = mapped_column(String(255), default="")
    binding_message: Mapped[str] = mapped_column(String(100), default="")
    #: The login transaction (browser logins) or CIBA request it serves.
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    #: ``pending``, ``approved``, ``denied``, ``cancelled`` (expiry is computed from expires_at)
    status: Mapped[str] = mapped_column(String(20), default=PushStatus.PENDING)
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Realm scenario: the decision to apply, and when, if no device decides first.
    auto_decision: Mapped[str | None] = mapped_column(String(20))
    auto_decide_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EcpsPushGate(db.Model):
    """One row per professional, written first by whoever sends them a push: on PostgreSQL the
    row lock, on SQLite the database write lock, serialises the count of pending pushes and
    the insertion of a new one, so the cap holds under any concurrency."""

    __tablename__ = "ecps_push_gate"

    national_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_push_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class EcpsScenario(db.Model):
    """Per-professional behaviour for headless CI: approve, deny or ignore, after a delay."""

    __tablename__ = "ecps_scenario"

    national_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    delay_seconds: Mapped[float] = mapped_column(default=0.0)


class OutboxMessage(db.Model):
    """A message sent by the development sender (e-mail or SMS), readable at /dev/outbox."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(255))
    national_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
