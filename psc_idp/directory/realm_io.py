"""The ``practitioners:`` part of the declarative realm file: import (upsert) and export.

An entry is a readable dict with snake_case keys and the codes PSC puts in userinfo (see
``psc_idp/realm/demo-practitioners.yaml``). Omitted string keys mean ``""``; ``active``
defaults to true. Importing is idempotent and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from psc_idp.directory.models import (
    ACTIVITY_FIELDS,
    ADDRESS_FIELDS,
    EXERCICE_FIELDS,
    GIVEN_NAMES_SEPARATOR,
    Activity,
    Exercice,
    OtherId,
    Practitioner,
)
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.timeutil import now

_CIVIL_TEXT = ("civility", "family_name", "sex", "email", "phone")
_BIRTH_TEXT = ("birth_place", "birth_commune_code", "birth_country_code")  # None when unknown
PRACTITIONER_KEYS = (
    *("national_id", "active", "civility", "family_name", "given_names", "birth_date", "sex"),
    *(*_BIRTH_TEXT, "email", "phone", "exercices", "other_ids"),
)
_SPLIT = ACTIVITY_FIELDS.index("telephone")  # the address reads best before the phones
ACTIVITY_KEYS = (*ACTIVITY_FIELDS[:_SPLIT], "address", *ACTIVITY_FIELDS[_SPLIT:])
EXERCICE_KEYS = (*EXERCICE_FIELDS, "activities")
OTHER_ID_KEYS = ("identifiant", "origine", "qualite")
_ALLOWED = {"civility": ("", "M", "MME"), "sex": ("", "M", "F")}


class _Entry:
    """Reads one entry; every error names the practitioner it is about."""

    def __init__(self, who: str) -> None:
        self.who = who

    def fail(self, message: str) -> ValueError:
        return ValueError(f"Praticien {self.who} : {message}")

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{where} doit être un dictionnaire.")
        unknown = sorted(map(str, set(value) - set(allowed)))
        if unknown:
            raise self.fail(f"clé(s) inconnue(s) dans {where} : {', '.join(unknown)}.")
        return value

    def text(self, data: dict[str, Any], key: str, model: type, where: str) -> str:
        value, name = data.get(key), f"{where}.{key}" if where else key
        if value is None:
            return ""
        if not isinstance(value, str):
            # YAML reads 01000 as the octal number 512: only quoted strings are safe.
            raise self.fail(f"{name} doit être une chaîne (mettez-la entre guillemets).")
        value = value.strip()
        length = model.__table__.c[key].type.length
        if len(value) > length:
            raise self.fail(f"{name} dépasse {length} caractères.")
        if value not in _ALLOWED.get(key, (value,)):
            raise self.fail(f"{name} vaut « {value} », attendu : {' ou '.join(_ALLOWED[key][1:])}.")
        return value

    def items(self, data: dict[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key) or []
        if not isinstance(value, list):
            raise self.fail(f"{f'{where}.' if where else ''}{key} doit être une liste.")
        return value


def _read_given_names(entry: _Entry, value: Any) -> list[str]:
    names = value.split(GIVEN_NAMES_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise entry.fail("given_names doit être une liste de prénoms.")
    names = [name.strip() for name in names if name and name.strip()]
    if not names:
        raise entry.fail("given_names est obligatoire.")
    too_long = len(GIVEN_NAMES_SEPARATOR.join(names)) > Practitioner.given_names.type.length
    if too_long or any(GIVEN_NAMES_SEPARATOR in name for name in names):
        raise entry.fail("given_names : prénoms sans apostrophe, 300 caractères au total au plus.")
    return names


def _read_birth_date(entry: _Entry, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise entry.fail("birth_date doit être une date AAAA-MM-JJ.") from None


def _read_activity(entry: _Entry, raw: Any, where: str) -> dict[str, Any]:
    data = entry.mapping(raw, where, ACTIVITY_KEYS)
    address = entry.mapping(data.get("address") or {}, f"{where}.address", ADDRESS_FIELDS)
    read = {key: entry.text(data, key, Activity, where) for key in ACTIVITY_FIELDS}
    where_address = f"{where}.address"
    read["address"] = {k: entry.text(address, k, Activity, where_address) for k in ADDRESS_FIELDS}
    return {key: read[key] for key in ACTIVITY_KEYS}


def _read_exercice(entry: _Entry, raw: Any, where: str) -> dict[str, Any]:
    data = entry.mapping(raw, where, EXERCICE_KEYS)
    read: dict[str, Any] = {key: entry.text(data, key, Exercice, where) for key in EXERCICE_FIELDS}
    if not read["profession"]:
        raise entry.fail(f"{where}.profession est obligatoire.")
    activities = entry.items(data, "activities", where)
    read["activities"] = [
        _read_activity(entry, a, f"{where}.activities[{i}]") for i, a in enumerate(activities)
    ]
    return read


def _read_other_id(entry: _Entry, raw: Any, where: str) -> dict[str, Any]:
    data = entry.mapping(raw, where, OTHER_ID_KEYS)
    read: dict[str, Any] = {k: entry.text(data, k, OtherId, where) for k in OTHER_ID_KEYS[:2]}
    qualite = data.get("qualite", 1)
    if not read["identifiant"] or isinstance(qualite, bool) or not isinstance(qualite, int):
        raise entry.fail(f"{where} : identifiant obligatoire et qualite entière.")
    read["qualite"] = qualite
    return read


def read_entry(raw: Any, index: int = 0) -> dict[str, Any]:
    """Validate one entry and return it complete (every key, defaults filled in)."""
    raw_id = raw.get("national_id") if isinstance(raw, dict) else None
    entry = _Entry(str(raw_id)[:64] if raw_id else f"n°{index + 1}")
    data = entry.mapping(raw, "l'entrée", PRACTITIONER_KEYS)
    try:
        national_id = validate_national_id(raw_id)
    except InvalidNationalId as exc:
        raise entry.fail(str(exc)) from None
    read: dict[str, Any] = {"national_id": national_id, "active": data.get("active", True)}
    if not isinstance(read["active"], bool):
        raise entry.fail("active doit valoir true ou false.")
    read.update({key: entry.text(data, key, Practitioner, "") for key in _CIVIL_TEXT})
    if not read["family_name"]:
        raise entry.fail("family_name est obligatoire.")
    read["given_names"] = _read_given_names(entry, data.get("given_names"))
    read["birth_date"] = _read_birth_date(entry, data.get("birth_date"))
    for key in _BIRTH_TEXT:
        read[key] = entry.text(data, key, Practitioner, "") or None
    exercices = entry.items(data, "exercices", "")
    read["exercices"] = [
        _read_exercice(entry, e, f"exercices[{i}]") for i, e in enumerate(exercices)
    ]
    others = entry.items(data, "other_ids", "")
    read["other_ids"] = [_read_other_id(entry, o, f"other_ids[{i}]") for i, o in enumerate(others)]
    return {key: read[key] for key in PRACTITIONER_KEYS}


def _compact(value: Any) -> Any:
    """Drop what an import would fill in anyway, so exports stay short."""
    if isinstance(value, dict):
        kept = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ("", None, [], {})}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def practitioner_to_dict(practitioner: Practitioner, *, compact: bool = True) -> dict[str, Any]:
    """The realm entry of ``practitioner``; ``compact`` omits empty values and defaults."""
    p = practitioner
    exercices = [
        {
            **{key: getattr(e, key) for key in EXERCICE_FIELDS},
            "activities": [_activity_to_dict(a) for a in e.activities],
        }
        for e in p.exercices
    ]
    data: dict[str, Any] = {
        "national_id": p.national_id,
        "active": p.active,
        **{key: getattr(p, key) for key in ("civility", "family_name")},
        "given_names": p.given_name_list,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "sex": p.sex,
        **{key: getattr(p, key) for key in (*_BIRTH_TEXT, "email", "phone")},
        "exercices": exercices,
        "other_ids": [{k: getattr(o, k) for k in OTHER_ID_KEYS} for o in p.other_ids],
    }
    if not compact:
        return data
    result = _compact(data)
    if p.active:
        del result["active"]  # the default
    return result


def _activity_to_dict(activity: Activity) -> dict[str, Any]:
    data: dict[str, Any] = {key: getattr(activity, key) for key in ACTIVITY_FIELDS}
    data["address"] = {key: getattr(activity, key) for key in ADDRESS_FIELDS}
    return {key: data[key] for key in ACTIVITY_KEYS}


def _sync(
    collection: list[Any],
    items: list[dict[str, Any]],
    factory: Callable[[], Any],
    apply: Callable[[Any, dict[str, Any]], None],
) -> None:
    # Update rows in place, position by position, so unchanged children keep their ids.
    for index, item in enumerate(items):
        if index >= len(collection):
            collection.append(factory())
        apply(collection[index], item)
    del collection[len(items) :]


def _apply_activity(activity: Activity, data: dict[str, Any]) -> None:
    for key in ACTIVITY_FIELDS:
        setattr(activity, key, data[key])
    for key in ADDRESS_FIELDS:
        setattr(activity, key, data["address"][key])


def _apply_exercice(exercice: Exercice, data: dict[str, Any]) -> None:
    for key in EXERCICE_FIELDS:
        setattr(exercice, key, data[key])
    _sync(exercice.activities, data["activities"], Activity, _apply_activity)


def _apply_other_id(other: OtherId, data: dict[str, Any]) -> None:
    for key in OTHER_ID_KEYS:
        setattr(other, key, data[key])


def _apply(practitioner: Practitioner, data: dict[str, Any]) -> None:
    p = practitioner
    p.national_id, p.active = data["national_id"], data["active"]
    for key in (*_CIVIL_TEXT, *_BIRTH_TEXT):
        setattr(p, key, data[key])
    p.given_names = GIVEN_NAMES_SEPARATOR.join(data["given_names"])
    p.birth_date = date.fromisoformat(data["birth_date"]) if data["birth_date"] else None
    _sync(p.exercices, data["exercices"], Exercice, _apply_exercice)
    _sync(p.other_ids, data["other_ids"], OtherId, _apply_other_id)
    p.updated_at = now()
    # Edited by hand now: the next directory import rewrites it rather than skip it as unchanged.
    p.content_hash = None


def upsert_practitioners(items: list[dict[str, Any]]) -> int:
    """Create or update practitioners from realm entries; return how many changed.

    Raises ``ValueError`` naming the practitioner on the first invalid entry, before
    touching the database. Flushes but does not commit.
    """
    if not isinstance(items, list):
        raise ValueError("practitioners doit être une liste.")
    entries = [read_entry(raw, index) for index, raw in enumerate(items)]
    seen: set[str] = set()
    for entry in entries:
        if entry["national_id"] in seen:
            raise ValueError(f"Praticien {entry['national_id']} : présent deux fois.")
        seen.add(entry["national_id"])
    query = select(Practitioner).where(Practitioner.national_id.in_(seen))
    existing = {p.national_id: p for p in db.session.scalars(query)}
    changed = 0
    for entry in entries:
        practitioner = existing.get(entry["national_id"])
        if practitioner is not None and practitioner_to_dict(practitioner, compact=False) == entry:
            continue
        if practitioner is None:
            practitioner = Practitioner()
            db.session.add(practitioner)
        _apply(practitioner, entry)
        changed += 1
    db.session.flush()
    return changed


def export_practitioners() -> list[dict[str, Any]]:
    """Every practitioner as a compact realm entry, by national id."""
    query = select(Practitioner).order_by(Practitioner.national_id)
    return [practitioner_to_dict(p) for p in db.session.scalars(query)]
