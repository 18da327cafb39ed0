"""One person of the directory as the importers build it: rows grouped by national id.

A file row is one (person × exercice × activity); a :class:`Person` gathers a person's rows
into exercices (one per distinct exercice fields, in order of first appearance) holding their
distinct activities. Its :meth:`Person.digest` is what ``dir_practitioner.content_hash`` keeps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from operator import gt

from psc_idp.directory.models import (
    ACTIVITY_FIELDS,
    ADDRESS_FIELDS,
    EXERCICE_FIELDS,
    Activity,
    Exercice,
    OtherId,
    Practitioner,
)

#: Civil fields of a person, in the order of :attr:`Person.civil`.
CIVIL_FIELDS = (
    "civility",
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "birth_place",
    "birth_commune_code",
    "birth_country_code",
    "email",
    "phone",
)
#: Every column of an activity row, in the order of an activity tuple.
ACTIVITY_COLUMNS = (*ACTIVITY_FIELDS, *ADDRESS_FIELDS)
OTHER_ID_FIELDS = ("identifiant", "origine", "qualite")

Civil = dict[str, "str | date | None"]
OtherIdTuple = tuple[str, str, int]


class Rejected(ValueError):
    """A row (or a resource) that cannot be imported; the message is the French reason."""


@dataclass(slots=True)
class RejectedItem:
    position: int
    national_id: str
    reason: str


def _lengths(model: type, names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(model.__table__.c[name].type.length for name in names)


EXERCICE_LENGTHS = _lengths(Exercice, EXERCICE_FIELDS)
ACTIVITY_LENGTHS = _lengths(Activity, ACTIVITY_COLUMNS)
CIVIL_LENGTHS = {
    name: Practitioner.__table__.c[name].type.length
    for name in CIVIL_FIELDS
    if name != "birth_date"
}
OTHER_ID_LENGTHS = _lengths(OtherId, OTHER_ID_FIELDS[:2])


@dataclass(slots=True)
class Person:
    """A person being assembled from rows (or from FHIR resources)."""

    national_id: str
    position: int  # of the person's first row
    civil: Civil
    exercices: dict[tuple[str, ...], dict[tuple[str, ...], None]] = field(default_factory=dict)
    other_ids: list[OtherIdTuple] = field(default_factory=list)
    rows: int = 0

    def add(self, exercice: tuple[str, ...], activity: tuple[str, ...] | None) -> None:
        activities = self.exercices.setdefault(exercice, {})
        if activity is not None:
            activities.setdefault(activity, None)
        self.rows += 1

    def absorb(self, other: Person) -> None:
        """Add a later group of the same person (rows not adjacent in the file)."""
        for exercice, activities in other.exercices.items():
            mine = self.exercices.setdefault(exercice, {})
            for activity in activities:
                mine.setdefault(activity, None)
        for other_id in other.other_ids:
            if other_id not in self.other_ids:
                self.other_ids.append(other_id)
        self.rows += other.rows

    def resolve(self) -> tuple[Person, list[RejectedItem]]:
        return self, []

    def digest(self) -> str:
        birth = self.civil.get("birth_date")
        document = [
            [self.civil.get(name) if name != "birth_date" else None for name in CIVIL_FIELDS],
            birth.isoformat() if isinstance(birth, date) else None,
            [[list(e), [list(a) for a in acts]] for e, acts in self.exercices.items()],
            [list(o) for o in self.other_ids],
        ]
        encoded = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def check_lengths(
    values: tuple[str, ...], lengths: tuple[int, ...], names: tuple[str, ...]
) -> None:
    if not any(map(gt, map(len, values), lengths)):
        return
    for value, length, name in zip(values, lengths, names, strict=True):
        if len(value) > length:
            raise Rejected(f"valeur trop longue pour {name} ({length} caractères au plus)")


def check_civil(civil: Civil) -> None:
    for name, length in CIVIL_LENGTHS.items():
        value = civil.get(name)
        if isinstance(value, str) and len(value) > length:
            raise Rejected(f"valeur trop longue pour {name} ({length} caractères au plus)")
