"""The audit trail, newest first, filtered by kind, client, national id and date, paged."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from psc_idp.admin.blueprint import bp, page
from psc_idp.admin.events import all_labels
from psc_idp.audit import AuditEvent
from psc_idp.audit.query import parse_since
from psc_idp.extensions import db

PAGE_SIZE = 50
MAX_PAGE = 10_000


def _text(name: str, length: int) -> str:
    return str(request.args.get(name, "")).strip()[:length]


@bp.get("/audit")
def audit_trail() -> ResponseReturnValue:
    filters = {
        "event": _text("event", 40),
        "client_id": _text("client_id", 255),
        "national_id": _text("national_id", 64),
        "since": _text("since", 10),
        "until": _text("until", 10),
    }
    query = select(AuditEvent)
    errors = []
    for name in ("event", "client_id", "national_id"):
        if filters[name]:
            query = query.where(getattr(AuditEvent, name) == filters[name])
    for name, label in (("since", "Du"), ("until", "Au")):
        if not filters[name]:
            continue
        try:
            day = parse_since(filters[name] + "T00:00:00")  # a date, Paris time
        except ValueError:
            errors.append(f"{label} : date attendue au format AAAA-MM-JJ.")
            continue
        if name == "since":
            query = query.where(AuditEvent.created_at >= day)
        else:
            query = query.where(AuditEvent.created_at < day + timedelta(days=1))
    try:
        number = max(1, min(int(request.args.get("page", "1")), MAX_PAGE))
    except ValueError:
        number = 1
    total = 0 if errors else db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = []
    if not errors:
        rows = list(
            db.session.scalars(
                query.order_by(AuditEvent.id.desc())
                .limit(PAGE_SIZE)
                .offset((number - 1) * PAGE_SIZE)
            )
        )
    kinds = list(db.session.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))
    pages = max(1, -(-(total or 0) // PAGE_SIZE))
    return page(
        "audit.html",
        filters=filters,
        kinds=kinds,
        labels=all_labels(),
        rows=rows,
        total=total or 0,
        page_number=number,
        pages=pages,
        errors=errors,
    ), (400 if errors else 200)
