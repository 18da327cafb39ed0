"""The realm file's ``scenarios:`` section (error scenarios, docs/developer-tools.md), checked
entry by entry with the same rules as ``psc-idp scenarios add``."""

from __future__ import annotations

from typing import Any

from flask import has_app_context

from psc_idp.devtools.scenarios.rules import EFFECTS, ScenarioInvalid, check
from psc_idp.extensions import db
from psc_idp.protocol.models import Client
from psc_idp.realm import checks
from psc_idp.realm.problems import Problems

KEYS = ("client_id", "national_id", "endpoint", *EFFECTS)


def check_scenarios(problems: Problems, items: Any, clients: Any) -> None:
    if not checks.is_list(problems, items, ("scenarios",)):
        return
    declared = {c.get("client_id") for c in clients or [] if isinstance(c, dict)}
    for index, item in enumerate(items):
        path = ("scenarios", index)
        if not checks.is_mapping(problems, item, path):
            continue
        checks.known_keys(problems, item, path, KEYS)
        effects = [name for name in EFFECTS if name in item]
        if len(effects) != 1:
            problems.add(path, f"un effet et un seul parmi : {', '.join(EFFECTS)}.")
            continue
        client_id = item.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            problems.add((*path, "client_id"), "client_id manquant.")
            continue
        if client_id not in declared and not _registered(client_id):
            problems.add(
                (*path, "client_id"),
                f"client inconnu « {client_id} » : ni dans ce fichier (clients) ni enregistré.",
            )
        national_id = item.get("national_id")
        effect = effects[0]
        try:
            check(client_id, national_id, str(item.get("endpoint", "")), effect, item[effect])
        except ScenarioInvalid as error:
            problems.add((*path, _place(str(error), effect)), str(error))


def _place(message: str, effect: str) -> str:
    """The key the problem is about (its line in the file)."""
    if message.startswith("point d'accès") or "ne s'applique qu'à" in message:
        return "endpoint"
    if "national" in message.lower() or "identifiant" in message.lower():
        return "national_id"
    return effect


def _registered(client_id: str) -> bool:
    return has_app_context() and db.session.get(Client, client_id) is not None
