"""Reading the trail: filters of ``psc-idp audit`` and its JSON lines export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from psc_idp.audit.trail import AuditEvent
from psc_idp.extensions import db
from psc_idp.timeutil import iso_utc, now

DURATION = re.compile(r"(\d+)\s*([smhd])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
PARIS = ZoneInfo("Europe/Paris")


def parse_since(value: str, moment: datetime | None = None) -> datetime:
    """``10m``, ``2h``, ``7d`` (ago), or an ISO date or date-time (Paris time unless it names
    its offset). ValueError otherwise."""
    value = value.strip()
    match = DURATION.fullmatch(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return (moment or now()) - timedelta(**{UNITS[unit]: amount})
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(UTC)


def events(
    national_id: str | None = None,
    client_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> Iterator[AuditEvent]:
    """Oldest first, streamed (an export may be large)."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if national_id:
        query = query.where(AuditEvent.national_id == national_id)
    if client_id:
        query = query.where(AuditEvent.client_id == client_id)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if limit:
        query = query.limit(limit)
    yield from db.session.scalars(query.execution_options(yield_per=500))


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "time": iso_utc(event.created_at),
        "event": event.event,
        "national_id": event.national_id,
        "client_id": event.client_id,
        "means": event.means,
        "acr": event.acr,
        "outcome": event.outcome,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "device_id": event.device_id,
        "detail": event.detail or {},
    }
