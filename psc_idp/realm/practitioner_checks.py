"""The ``practitioners:`` section: keys at every level, codes against the code systems.

The codes are those of ``directory/codes.py``: a code outside its table is refused (with the
closest known code), since a typo there would reach userinfo unnoticed. Values themselves
(lengths, dates, national ids) are then read by ``directory.realm_io.read_entry``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psc_idp.directory import codes
from psc_idp.directory.models import ADDRESS_FIELDS
from psc_idp.directory.realm_io import (
    ACTIVITY_KEYS,
    EXERCICE_KEYS,
    OTHER_ID_KEYS,
    PRACTITIONER_KEYS,
    read_entry,
)
from psc_idp.realm import checks
from psc_idp.realm.problems import Path, Problems, suggestion

#: Coded keys of an exercice and of an activity: (code system, its table).
EXERCICE_CODES: dict[str, tuple[str, Mapping[str, str]]] = {
    "profession": ("TRE_G15 / TRE_R85", {**codes.PROFESSIONS, **codes.STAFF_PROFESSIONS}),
    "category": ("TRE_R09", codes.CATEGORIES),
    "civilite_exercice": ("civilité d'exercice", codes.CIVILITES_EXERCICE),
    "savoir_faire_type": ("TRE_R04", codes.SAVOIR_FAIRE_TYPES),
    "savoir_faire": ("TRE_R38", codes.SAVOIR_FAIRE),
}
ACTIVITY_CODES: dict[str, tuple[str, Mapping[str, str]]] = {
    "mode": ("TRE_R23", codes.MODES),
    "sector": ("TRE_R02", codes.SECTORS),
    "pharmacist_section": ("TRE_G05", codes.PHARMACIST_SECTIONS),
    "role": ("TRE_R21", codes.ROLES),
    "genre": ("TRE_R22", codes.GENRES),
}


def check_practitioners(problems: Problems, items: Any) -> None:
    if not checks.is_list(problems, items, ("practitioners",)):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(items):
        path: Path = ("practitioners", index)
        if not checks.is_mapping(problems, entry, path):
            continue
        before = len(problems.items)
        _check_structure(problems, entry, path)
        if len(problems.items) > before:
            continue  # read_entry would stop at the same key, in other words
        try:
            national_id = read_entry(entry, index)["national_id"]
        except ValueError as error:
            problems.add(path, str(error))
            continue
        if national_id in seen:
            problems.add(
                (*path, "national_id"), f"déjà défini en practitioners[{seen[national_id]}]."
            )
        seen.setdefault(national_id, index)


def _check_structure(problems: Problems, entry: dict[str, Any], path: Path) -> None:
    checks.known_keys(problems, entry, path, PRACTITIONER_KEYS)
    for i, exercice in enumerate(_list(problems, entry, "exercices", path)):
        where = (*path, "exercices", i)
        if not checks.is_mapping(problems, exercice, where):
            continue
        checks.known_keys(problems, exercice, where, EXERCICE_KEYS)
        _check_codes(problems, exercice, where, EXERCICE_CODES)
        for j, activity in enumerate(_list(problems, exercice, "activities", where)):
            _check_activity(problems, activity, (*where, "activities", j))
    for i, other in enumerate(_list(problems, entry, "other_ids", path)):
        if checks.is_mapping(problems, other, (*path, "other_ids", i)):
            checks.known_keys(problems, other, (*path, "other_ids", i), OTHER_ID_KEYS)


def _check_activity(problems: Problems, activity: Any, path: Path) -> None:
    if not checks.is_mapping(problems, activity, path):
        return
    checks.known_keys(problems, activity, path, ACTIVITY_KEYS)
    _check_codes(problems, activity, path, ACTIVITY_CODES)
    address = activity.get("address")
    if address is not None and checks.is_mapping(problems, address, (*path, "address")):
        checks.known_keys(problems, address, (*path, "address"), ADDRESS_FIELDS)


def _list(problems: Problems, mapping: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = mapping.get(key)
    if value is None:
        return []
    return value if checks.is_list(problems, value, (*path, key)) else []


def _check_codes(
    problems: Problems,
    mapping: dict[str, Any],
    path: Path,
    coded: dict[str, tuple[str, Mapping[str, str]]],
) -> None:
    for key, (system, table) in coded.items():
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip() or value.strip() in table:
            continue  # missing, empty or not text: read_entry says what is wrong
        hint = suggestion(value.strip(), table)
        if not hint and len(table) <= 10:
            hint = f" (codes possibles : {', '.join(table)})"
        problems.add((*path, key), f"code « {value} » absent de {system}{hint}")
