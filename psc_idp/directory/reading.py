"""A practitioner read for a token or a UserInfo answer: two prepared queries (the person with
exercices and activities in one, the other ids in the other), rows turned into read-only
records with the attributes and properties of the ORM models. ``lookup.find_practitioner`` stays
the way to load one to change it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from psc_idp.directory.models import (
    Activity,
    Exercice,
    GivenNames,
    OtherId,
    Practitioner,
)
from psc_idp.extensions import db
from psc_idp.prepared_sql import PreparedRead

_person, _exercice, _activity, _other = (
    Practitioner.__table__,
    Exercice.__table__,
    Activity.__table__,
    OtherId.__table__,
)
_E, _A = "exercice__", "activity__"

_IDENTITY = PreparedRead(
    select(
        _person,
        *(c.label(_E + c.name) for c in _exercice.c),
        *(c.label(_A + c.name) for c in _activity.c),
    )
    .select_from(_person)
    .outerjoin(_exercice, _exercice.c.practitioner_id == _person.c.id)
    .outerjoin(_activity, _activity.c.exercice_id == _exercice.c.id)
    .where(_person.c.national_id == bindparam("national_id"))
    .order_by(_exercice.c.position, _exercice.c.id, _activity.c.position, _activity.c.id)
)
_OTHER_IDS = PreparedRead(
    select(_other)
    .where(_other.c.practitioner_id == bindparam("practitioner_id"))
    .order_by(_other.c.position, _other.c.id)
)
_ACTIVE = PreparedRead(
    select(_person.c.active).where(_person.c.national_id == bindparam("national_id"))
)


def is_active(national_id: str) -> bool | None:
    """Whether the practitioner may act: None if there is none with this national id."""
    if not national_id:
        return None
    row = _ACTIVE.first(db.session.connection(), national_id=national_id)
    return None if row is None else bool(row.active)


class Record:
    """Attributes from a row; nothing to save."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


class PractitionerRecord(GivenNames, Record):
    exercices: list[Record]
    other_ids: list[Record]


def _prefixed(mapping: Any, prefix: str) -> dict[str, Any]:
    size = len(prefix)
    return {key[size:]: value for key, value in mapping.items() if key.startswith(prefix)}


def read_practitioner(national_id: str) -> PractitionerRecord | None:
    """The practitioner with this national id, active or not, with its sectoral identity."""
    if not national_id:
        return None
    connection = db.session.connection()
    rows = _IDENTITY.all(connection, national_id=national_id)
    if not rows:
        return None
    first = rows[0]._mapping
    person = PractitionerRecord({c.name: first[c.name] for c in _person.c})
    person.exercices = []
    current: Record | None = None
    for row in rows:
        mapping = row._mapping
        exercice = _prefixed(mapping, _E)
        if exercice["id"] is None:
            continue
        if current is None or current.id != exercice["id"]:
            current = Record(exercice)
            current.activities = []
            person.exercices.append(current)
        activity = _prefixed(mapping, _A)
        if activity["id"] is not None:
            current.activities.append(Record(activity))
    others = _OTHER_IDS.all(connection, practitioner_id=person.id)
    person.other_ids = [Record(dict(row._mapping)) for row in others]
    return person
