"""Realm scenarios: how a professional's e-CPS answers by itself, for headless CI.

``approve`` and ``deny`` decide each push after ``delay`` seconds unless a device decides
first; ``ignore`` lets it expire."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsScenario

ACTIONS = ("approve", "deny", "ignore")


def upsert_scenarios(items: list[Any]) -> int:
    changed = 0
    for item in items:
        national_id, action, delay = _read(item)
        row = db.session.get(EcpsScenario, national_id)
        if row is None:
            db.session.add(
                EcpsScenario(national_id=national_id, action=action, delay_seconds=delay)
            )
            changed += 1
        elif (row.action, row.delay_seconds) != (action, delay):
            row.action, row.delay_seconds = action, delay
            changed += 1
    return changed


def _read(item: Any) -> tuple[str, str, float]:
    if not isinstance(item, dict):
        raise ValueError("each e-CPS scenario must be a mapping")
    try:
        national_id = validate_national_id(str(item.get("national_id", "")))
    except InvalidNationalId as error:
        raise ValueError(f"e-CPS scenario: {error}") from error
    action = item.get("action")
    if action not in ACTIONS:
        raise ValueError(f"e-CPS scenario {national_id}: action must be one of {ACTIONS}")
    delay = item.get("delay", 0)
    if not isinstance(delay, int | float) or not 0 <= delay <= 3600:
        raise ValueError(f"e-CPS scenario {national_id}: delay must be 0 to 3600 seconds")
    return national_id, action, float(delay)


def export_scenarios() -> list[dict[str, Any]]:
    rows = db.session.scalars(select(EcpsScenario).order_by(EcpsScenario.national_id))
    return [
        {"national_id": r.national_id, "action": r.action, "delay": r.delay_seconds} for r in rows
    ]
