"""Scenarios kept in the database: added (one per client, professional, endpoint and effect:
a second replaces the first's value), listed, removed, and the ones that apply to a request."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, select

from psc_idp.devtools.scenarios.models import Scenario
from psc_idp.devtools.scenarios.rules import MAX_PER_CLIENT, ScenarioInvalid, Spec
from psc_idp.extensions import db
from psc_idp.protocol.models import Client


def add(spec: Spec) -> tuple[Scenario, bool]:
    """The stored scenario and whether anything changed. The caller commits."""
    if db.session.get(Client, spec.client_id) is None:
        raise ScenarioInvalid(f"client inconnu : {spec.client_id}")
    same = next(
        (
            row
            for row in db.session.scalars(
                select(Scenario).where(
                    Scenario.client_id == spec.client_id,
                    Scenario.endpoint == spec.endpoint,
                    Scenario.effect == spec.effect,
                    _national_id_is(spec.national_id),
                )
            )
            if _slot(row.effect, row.value) == _slot(spec.effect, spec.value)
        ),
        None,
    )
    if same is not None:
        changed = same.value != spec.value
        same.value = spec.value
        return same, changed
    if len(for_client(spec.client_id)) >= MAX_PER_CLIENT:
        raise ScenarioInvalid(
            f"{spec.client_id} a déjà {MAX_PER_CLIENT} scénarios : retirez-en avant d'en ajouter."
        )
    row = Scenario(
        id=secrets.token_hex(4),
        client_id=spec.client_id,
        national_id=spec.national_id,
        endpoint=spec.endpoint,
        effect=spec.effect,
        value=spec.value,
    )
    db.session.add(row)
    db.session.flush()
    return row, True


def _slot(effect: str, value: str) -> tuple[str, str]:
    """What one scenario stands for: its effect, and for a claim effect the claim (two claims
    may be dropped, one claim is renamed once)."""
    if effect in ("drop_claim", "rename_claim"):
        return effect, value.partition("=")[0]
    return effect, ""


def _national_id_is(national_id: str | None) -> Any:
    if national_id is None:
        return Scenario.national_id.is_(None)
    return Scenario.national_id == national_id


def for_client(client_id: str) -> list[Scenario]:
    return list(
        db.session.scalars(
            select(Scenario)
            .where(Scenario.client_id == client_id)
            .order_by(Scenario.endpoint, Scenario.created_at, Scenario.id)
        )
    )


def remove(client_id: str, scenario_id: str | None = None) -> int:
    """One scenario of the client (by id), or all of them; how many went. The caller commits."""
    statement = delete(Scenario).where(Scenario.client_id == client_id)
    if scenario_id is not None:
        statement = statement.where(Scenario.id == scenario_id)
    return db.session.execute(statement).rowcount or 0


def applicable(client_id: str, endpoint: str, national_id: str | None) -> list[Scenario]:
    """The client's scenarios at ``endpoint`` for this professional: of each effect, the one
    naming the professional before the client-wide one."""
    rows = db.session.scalars(
        select(Scenario).where(Scenario.client_id == client_id, Scenario.endpoint == endpoint)
    ).all()
    chosen: dict[tuple[str, str], Scenario] = {}
    for row in rows:
        if row.national_id is not None and row.national_id != national_id:
            continue
        slot = _slot(row.effect, row.value)
        kept = chosen.get(slot)
        if kept is None or (kept.national_id is None and row.national_id is not None):
            chosen[slot] = row
    return list(chosen.values())


def any_at(endpoint: str) -> bool:
    """Whether any client has a scenario at ``endpoint`` (one indexed read, before the work
    of finding who a request is for)."""
    return db.session.scalar(select(Scenario.id).where(Scenario.endpoint == endpoint)) is not None


def as_dict(row: Scenario, with_id: bool = True) -> dict[str, Any]:
    """As the realm file and ``scenarios list --json`` write it."""
    data: dict[str, Any] = {"id": row.id} if with_id else {}
    data["client_id"] = row.client_id
    if row.national_id is not None:
        data["national_id"] = row.national_id
    data["endpoint"] = row.endpoint
    data[row.effect] = True if row.value == "" else _typed(row.effect, row.value)
    return data


def _typed(effect: str, value: str) -> Any:
    if effect == "status":
        return int(value)
    if effect == "delay":
        return float(value)
    return value
