"""The ``apis:`` section of the realm file: each protected API, its audience (the last segment
of its issuer), business scopes, token lifetime, and who may call it.

::

    apis:
      - audience: demo-api
        name: API de démonstration
        scopes: [demo]
        lifetime: 60
        allowed_clients: [lps-cabinet]
        allowed_structures: [1B0064166]
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from psc_idp.api_as.models import DEFAULT_LIFETIME, ProtectedApi
from psc_idp.extensions import db
from psc_idp.realm import checks
from psc_idp.realm.problems import Problems

API_KEYS = ("audience", "name", "scopes", "lifetime", "allowed_clients", "allowed_structures")
LIST_KEYS = ("scopes", "allowed_clients", "allowed_structures")
#: The audience is a path segment of the issuer: letters, digits, ``-``, ``_`` and ``.``.
AUDIENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: A scope token (RFC 6749 §3.3) without the characters a realm file would not mean.
SCOPE = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
MAX_LIFETIME = 3600


def check_apis(problems: Problems, items: Any) -> None:
    if not checks.is_list(problems, items, ("apis",)):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(items):
        path = ("apis", index)
        if not checks.is_mapping(problems, entry, path):
            continue
        checks.known_keys(problems, entry, path, API_KEYS)
        checks.unique_name(
            problems,
            entry.get("audience"),
            (*path, "audience"),
            AUDIENCE,
            seen,
            "lettres, chiffres, « - », « _ » ou « . » (64 au plus).",
        )
        if entry.get("name") is not None:
            checks.text(problems, entry["name"], (*path, "name"))
        checks.optional_strings(problems, entry, path, LIST_KEYS)
        scopes = entry.get("scopes")
        if not isinstance(scopes, list) or not scopes:
            problems.add((*path, "scopes"), "au moins un scope métier.")
        elif not all(isinstance(s, str) and SCOPE.fullmatch(s) for s in scopes):
            problems.add((*path, "scopes"), "un scope est un mot sans espace (lettres, chiffres).")
        lifetime = entry.get("lifetime", DEFAULT_LIFETIME)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            problems.add((*path, "lifetime"), "un nombre entier de secondes.")
        elif not 1 <= lifetime <= MAX_LIFETIME:
            problems.add((*path, "lifetime"), f"de 1 à {MAX_LIFETIME} secondes.")


def upsert_apis(items: list[dict[str, Any]]) -> int:
    """Create or update each API; returns how many changed. The caller commits."""
    changed = 0
    for entry in items:
        api = db.session.get(ProtectedApi, entry["audience"]) or ProtectedApi(
            audience=entry["audience"]
        )
        before = api_to_dict(api) if api.scopes is not None else None
        api.name = entry.get("name") or ""
        api.scopes = list(entry["scopes"])
        api.lifetime = int(entry.get("lifetime", DEFAULT_LIFETIME))
        api.allowed_clients = list(entry.get("allowed_clients") or [])
        api.allowed_structures = list(entry.get("allowed_structures") or [])
        db.session.add(api)
        changed += before != api_to_dict(api)
    return changed


def api_to_dict(api: ProtectedApi) -> dict[str, Any]:
    return {
        "audience": api.audience,
        "name": api.name or "",
        "scopes": list(api.scopes or []),
        "lifetime": api.lifetime,
        "allowed_clients": list(api.allowed_clients or []),
        "allowed_structures": list(api.allowed_structures or []),
    }


def all_apis() -> list[ProtectedApi]:
    return list(db.session.scalars(select(ProtectedApi).order_by(ProtectedApi.audience)))


def find_api(audience: str) -> ProtectedApi | None:
    if not isinstance(audience, str) or not AUDIENCE.fullmatch(audience):
        return None
    return db.session.get(ProtectedApi, audience)
