"""Sending activation codes by e-mail and SMS through a pluggable sender.

The default sender writes to the outbox table, read at ``/dev/outbox`` and with
``psc-idp outbox`` in development mode. The body holds a live activation code, so it is stored
sealed (AES-GCM under a key derived from the app secret) and opened only to be shown to the
developer. Production plugs its own sender: ``PSC_ECPS_SENDER`` names a ``module:callable``
called as ``send(channel, recipient, subject, body, national_id)``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.keystore.secret import SEALED_PREFIX
from psc_idp.means.ecps.models import OutboxMessage

Sender = Callable[[str, str, str, str, str | None], None]
SEAL_PURPOSE = "outbox-body"
UNREADABLE = "(message illisible : scellé avec un autre secret d'application)"


@dataclass(frozen=True)
class Message:
    """An outbox message as the developer reads it (body opened)."""

    id: int
    channel: str
    recipient: str
    national_id: str | None
    subject: str
    body: str
    created_at: datetime


def outbox_sender(
    channel: str, recipient: str, subject: str, body: str, national_id: str | None
) -> None:
    db.session.add(
        OutboxMessage(
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=current_app.extensions["psc_app_secret"].seal(body, SEAL_PURPOSE),
            national_id=national_id,
        )
    )


def _sender() -> Sender:
    name = current_settings().ecps_sender
    if name in ("", "outbox"):
        return outbox_sender
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def send(channel: str, recipient: str, subject: str, body: str, national_id: str | None) -> None:
    _sender()(channel, recipient, subject, body, national_id)


def latest(national_id: str | None = None, limit: int = 50) -> list[Message]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if national_id:
        query = query.where(OutboxMessage.national_id == national_id)
    return [_opened(row) for row in db.session.scalars(query)]


def _opened(row: OutboxMessage) -> Message:
    return Message(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        national_id=row.national_id,
        subject=row.subject,
        body=_open(row.body),
        created_at=row.created_at,
    )


def _open(stored: str) -> str:
    if not stored.startswith(SEALED_PREFIX):
        return stored  # written before bodies were sealed
    try:
        return current_app.extensions["psc_app_secret"].unseal(stored, SEAL_PURPOSE)
    except ValueError:
        return UNREADABLE
