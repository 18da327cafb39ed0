"""The scenarios as other tools show them (the admin console, the debugger): read only, each
with a French description of its effect. Nothing here writes; ``store`` does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.models import Scenario
from psc_idp.extensions import db

#: The response header naming the scenarios applied to an answer (comma-separated ids).
HEADER = "X-PSC-Scenario"
#: What a scenario's error says of itself (``error_description``), readable where the header is
#: not (an authorization error comes back through the browser, its header unseen).
DESCRIPTION = re.compile(r"psc-idp scenario ([0-9a-f]{1,16})\b")
#: Effect → its French label (the console's choices, the debugger's descriptions).
EFFECT_LABELS = {
    "error": "erreur OAuth",
    "status": "statut HTTP",
    "delay": "délai (secondes)",
    "drop_claim": "claim retiré",
    "rename_claim": "claim renommé (ANCIEN=NOUVEAU)",
    "acr": "acr imposé",
    "expired_token": "jetons expirés",
    "wrong_signature": "jetons mal signés",
    "userinfo_profile": "forme ancienne de UserInfo",
    "ciba_outcome": "issue CIBA imposée",
}


@dataclass(frozen=True)
class ScenarioView:
    id: str
    client_id: str
    national_id: str | None
    endpoint: str
    effect: str
    value: str
    description: str


def describe(row: Scenario) -> str:
    """« token : erreur OAuth invalid_grant (tous les professionnels) »."""
    old, _, new = row.value.partition("=")
    what = {
        "error": f"répond l'erreur {row.value}",
        "status": f"répond le statut HTTP {row.value}",
        "delay": f"attend {row.value} s avant de répondre",
        "drop_claim": f"retire le claim {row.value}",
        "rename_claim": f"renomme le claim {old} en {new}",
        "acr": f"met acr = {row.value} dans les jetons",
        "expired_token": "émet des jetons déjà expirés",
        "wrong_signature": "signe les jetons d'une clé hors JWKS",
        "userinfo_profile": f"répond l'UserInfo sous sa forme {row.value}",
        "ciba_outcome": f"termine les demandes CIBA : {row.value}",
    }.get(row.effect, f"{row.effect} {row.value}")
    who = f"professionnel {row.national_id}" if row.national_id else "tous les professionnels"
    return f"{row.endpoint} : {what} ({who})"


def _view(row: Scenario) -> ScenarioView:
    return ScenarioView(
        row.id, row.client_id, row.national_id, row.endpoint, row.effect, row.value, describe(row)
    )


def for_client(client_id: str) -> list[ScenarioView]:
    return [_view(row) for row in store.for_client(client_id)]


def by_ids(ids: list[str]) -> dict[str, ScenarioView]:
    """The scenarios still stored among ``ids`` (one may have been removed since)."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Scenario).where(Scenario.id.in_(ids[:20])))
    return {row.id: _view(row) for row in rows}


def counts() -> dict[str, int]:
    """Client → its number of scenarios (the clients with none are absent)."""
    rows = db.session.execute(
        select(Scenario.client_id, func.count()).group_by(Scenario.client_id)
    ).all()
    return {client_id: number for client_id, number in rows}


def ids_in_header(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()][:20]
