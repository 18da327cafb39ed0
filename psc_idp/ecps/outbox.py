"""Sending activation codes by e-mail and SMS through a pluggable sender.

The default sender writes to the outbox table, read at ``/dev/outbox`` and with
``psc-idp outbox`` in development mode. Production plugs its own: ``PSC_ECPS_SENDER`` names a
``module:callable`` called as ``send(channel, recipient, subject, body, national_id)``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlalchemy import select

from psc_idp.config import current_settings
from psc_idp.ecps.models import OutboxMessage
from psc_idp.extensions import db

Sender = Callable[[str, str, str, str, str | None], None]


def outbox_sender(
    channel: str, recipient: str, subject: str, body: str, national_id: str | None
) -> None:
    db.session.add(
        OutboxMessage(
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
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


def latest(national_id: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if national_id:
        query = query.where(OutboxMessage.national_id == national_id)
    return list(db.session.scalars(query))
