"""The audit trail: every authentication attempt and outcome, enrolment, activation, lockout,
token issuance, refresh, revocation and logout — who (national id), which client, which means,
``acr``, outcome, IP address, user agent, time. The means record their own events and declare
their French labels (``Authenticator.audit_events``); the login and protocol layers record the
events of ``audit.events``. Read by ``psc-idp audit`` and the account page (own events)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.config import Settings, current_settings
from psc_idp.extensions import db
from psc_idp.http.address import address_of
from psc_idp.observe.request_id import current_client, current_environ
from psc_idp.prepared_sql import insert
from psc_idp.purge import delete_where
from psc_idp.timeutil import UTCDateTime, now

USER_AGENT_LENGTH = 255


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    national_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: ``authMode`` (CARD, MOBILE, FIDO) when known, else the means' id.
    means: Mapped[str | None] = mapped_column(String(20))
    acr: Mapped[str | None] = mapped_column(String(20))
    #: ``success``, ``failure``, ``refused``… (empty for plain facts such as a renamed device).
    outcome: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


def row(
    event: str,
    national_id: str | None,
    device_id: str | None = None,
    *,
    client_id: str | None = None,
    means: str | None = None,
    acr: str | None = None,
    outcome: str | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The column values of an event; the request's address, user agent and client filled in."""
    ip = agent = None
    environ = request.environ if has_request_context() else current_environ()
    if environ is not None:  # a Flask request, or one answered before Flask
        ip = address_of(environ, current_settings().trusted_proxies)
        agent = str(environ.get("HTTP_USER_AGENT", ""))[:USER_AGENT_LENGTH] or None
    return {
        "event": event,
        "national_id": national_id,
        "device_id": device_id,
        "client_id": client_id or current_client() or None,
        "means": means,
        "acr": acr,
        "outcome": outcome,
        "ip": ip,
        "user_agent": agent,
        "detail": detail,
        "created_at": now(),
    }


def record(
    event: str, national_id: str | None, device_id: str | None = None, **values: Any
) -> None:
    """Write the event in the session's transaction: it commits, or rolls back, with what it
    records. A prepared insert, not an ORM instance: the unit of work's flush of one row cost
    more than the rest of a CIBA request's writes together."""
    values = row(event, national_id, device_id, **values)
    insert(AuditEvent.__table__, db.session.connection(), **values)


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
