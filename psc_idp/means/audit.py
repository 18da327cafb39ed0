"""The audit trail of a professional's means (shown on the account page). Every means records
its own events here and declares their French labels (``Authenticator.audit_events``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.purge import delete_where
from psc_idp.timeutil import UTCDateTime, now


class AuditEvent(db.Model):
    """What happened to a professional's means: activations, approvals, wrong PINs, locks."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    national_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


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


def purge_audit(settings: Settings) -> dict[str, int]:
    """``psc-idp purge``: events older than ``audit_retention``."""
    horizon = now() - timedelta(seconds=settings.audit_retention)
    return {"audit_events": delete_where(AuditEvent, AuditEvent.created_at < horizon)}
