"""The realm file's ``scenarios:`` section: imported (added or updated, never removed: the
file is checked first by ``realm/scenario_checks.py``) and exported."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.models import Scenario
from psc_idp.devtools.scenarios.rules import EFFECTS, check
from psc_idp.extensions import db


def upsert_scenarios(items: list[Any]) -> int:
    changed = 0
    for item in items:
        effect = next(name for name in EFFECTS if name in item)
        spec = check(
            item["client_id"], item.get("national_id"), item["endpoint"], effect, item[effect]
        )
        _, did = store.add(spec)
        changed += did
    return changed


def export_scenarios() -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Scenario).order_by(Scenario.client_id, Scenario.endpoint, Scenario.created_at)
    )
    return [store.as_dict(row, with_id=False) for row in rows]
