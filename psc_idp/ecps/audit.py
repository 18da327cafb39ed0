"""The audit trail of a professional's means (shown on the account page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from psc_idp.ecps.models import AuditEvent
from psc_idp.extensions import db


def record(
    event: str, national_id: str | None, device_id: str | None = None, **detail: Any
) -> None:
    db.session.add(
        AuditEvent(event=event, national_id=national_id, device_id=device_id, detail=detail)
    )


def recent(national_id: str, limit: int = 20) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.national_id == national_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
