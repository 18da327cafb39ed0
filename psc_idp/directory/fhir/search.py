"""Search queries, one function per resource type: FHIR parameters → SQL conditions, and a
page of results in a stable order with a keyset cursor (``_page``), so that a page deep in
the directory costs what the first one does.

Indexed lookups: read by id, ``identifier`` (national id, RPPS, structure id), ``_id``,
``organization``, ``practitioner``. The other parameters (names, codes, dates) filter."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.datastructures import MultiDict

from psc_idp.directory.fhir import organization, params, practitioner_role
from psc_idp.directory.fhir.params import Token, reject
from psc_idp.directory.fhir.practitioner_role import Role
from psc_idp.directory.fhir.systems import (
    FHIR_ID,
    IDENTIFIER_TYPE_SYSTEM,
    NATIONAL_ID_SYSTEM,
    RPPS_SYSTEM,
    STRUCTURE_ID_SYSTEM,
    system,
)
from psc_idp.directory.models import GIVEN_NAMES_SEPARATOR, Activity, Exercice, Practitioner
from psc_idp.extensions import db

#: Row ids: 9 digits at most always fit the 32-bit INTEGER columns (PostgreSQL refuses more).
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass
class Page:
    """One page of a search: the matches, their total, and where the next page starts."""

    matches: list[Any]
    total: int
    next_cursor: str | None
    includes: list[Any] = field(default_factory=list)


def _like(column: Any, value: str, mod: str) -> ColumnElement[bool]:
    """FHIR string search: starts with (default), ``:exact``, ``:contains``; without regard
    to case, except ``:exact`` (accents count: ``LEA`` does not find ``LÉA``)."""
    if mod == "exact":
        return column == value
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%" if mod == "contains" else f"{escaped}%"
    # SQLite folds the case of ASCII letters only: the upper-case form also finds "LÉA" (the
    # directory writes names in capitals) from "léa".
    return or_(
        func.lower(column).like(pattern.lower(), escape="\\"),
        func.upper(column).like(pattern.upper(), escape="\\"),
    )


def _given(value: str, mod: str) -> ColumnElement[bool]:
    """Any of the ``'``-separated given names."""
    column, sep = Practitioner.given_names, GIVEN_NAMES_SEPARATOR
    if mod == "exact":
        return or_(
            column == value,
            column.startswith(value + sep, autoescape=True),
            column.contains(sep + value + sep, autoescape=True),
            column.endswith(sep + value, autoescape=True),
        )
    return or_(_like(column, value, mod), _like(column, sep + value, "contains"))


def _strings(args: MultiDict[str, str], name: str, match: Callable[[str, str], Any]) -> list[Any]:
    return [
        match(params.string(value, name), mod)
        for mod, value in params.modifier(args, name, ("", "exact", "contains"))
    ]


def _each_token(args: MultiDict[str, str], name: str, match: Callable[[Token], Any]) -> list[Any]:
    return [
        or_(*(match(token) for token in params.tokens(value, name)))
        for _, value in params.modifier(args, name, ("",))
    ]


def _booleans(args: MultiDict[str, str], name: str, column: Any) -> list[Any]:
    return [
        column.is_(params.boolean(value, name)) for _, value in params.modifier(args, name, ("",))
    ]


def _dates(args: MultiDict[str, str], column: Any) -> list[Any]:
    found = []
    for _, value in params.modifier(args, "_lastUpdated", ("",)):
        span = params.date(value, "_lastUpdated")
        found.append(
            {
                "eq": and_(column >= span.start, column < span.end),
                "gt": column >= span.end,
                "ge": column >= span.start,
                "lt": column < span.start,
                "le": column < span.end,
            }[span.prefix]
        )
    return found


def _ids(args: MultiDict[str, str], match: Callable[[str], Any]) -> list[Any]:
    return [
        or_(*(match(part) for part in value.split(",")))
        for _, value in params.modifier(args, "_id", ("",))
    ]


def _int_id(column: InstrumentedAttribute[int], value: str) -> ColumnElement[bool]:
    return column == int(value) if _DIGITS.fullmatch(value) else false()


def _includes(args: MultiDict[str, str], name: str, allowed: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for _, value in params.modifier(args, name, ("",)):
        for part in value.split(","):
            if part == "*" and name == "_include":
                found.update(allowed)
            elif part in allowed:
                found.add(part)
            else:
                raise reject(f"Unsupported {name}: {part}")
    return found


# --- Practitioner -------------------------------------------------------------------------

PRACTITIONER_PARAMS = frozenset({"identifier", "name", "family", "given", "active", "_revinclude"})


def _practitioner_identifier(token: Token) -> ColumnElement[bool]:
    column = Practitioner.national_id
    if token.system == NATIONAL_ID_SYSTEM:
        return column == token.code
    if token.system == RPPS_SYSTEM:
        return column == "8" + token.code
    if token.system is None:
        return or_(column == token.code, column == "8" + token.code)
    return false()


def practitioner_conditions(args: MultiDict[str, str]) -> list[Any]:
    params.check_names(args, PRACTITIONER_PARAMS)
    return [
        *_each_token(args, "identifier", _practitioner_identifier),
        *_strings(args, "family", lambda v, m: _like(Practitioner.family_name, v, m)),
        *_strings(args, "given", _given),
        *_strings(
            args, "name", lambda v, m: or_(_like(Practitioner.family_name, v, m), _given(v, m))
        ),
        *_booleans(args, "active", Practitioner.active),
        *_dates(args, Practitioner.updated_at),
        *_ids(args, lambda value: _int_id(Practitioner.id, value)),
    ]


def practitioners(args: MultiDict[str, str], count: int) -> Page:
    conditions = practitioner_conditions(args)
    revinclude = _includes(args, "_revinclude", ("PractitionerRole:practitioner",))
    cursor = args.get("_page")
    paged = list(conditions)
    if cursor is not None:
        if not _DIGITS.fullmatch(cursor):
            raise reject("Invalid _page")
        paged.append(Practitioner.id > int(cursor))
    total = db.session.scalar(select(func.count()).select_from(Practitioner).where(*conditions))
    found = list(
        db.session.scalars(
            select(Practitioner).where(*paged).order_by(Practitioner.id).limit(count + 1)
        )
    )
    next_cursor = str(found[count - 1].id) if len(found) > count and count else None
    page = Page(found[:count], total or 0, next_cursor)
    if revinclude:
        page.includes = [role for person in page.matches for role in roles_of(person)]
    return page


def roles_of(person: Practitioner) -> list[Role]:
    return [
        Role(person, exercice, activity)
        for exercice in person.exercices
        for activity in (exercice.activities or [None])
    ]


# --- PractitionerRole ---------------------------------------------------------------------

ROLE_PARAMS = frozenset({"role", "specialty", "active", "organization", "practitioner", "_include"})
ROLE_INCLUDES = ("PractitionerRole:practitioner", "PractitionerRole:organization")
#: Which column a code of PractitionerRole.code is, by nomenclature.
_ROLE_CODE_COLUMNS = {
    "TRE_G15": Exercice.profession,
    "TRE_R85": Exercice.profession,
    "TRE_R09": Exercice.category,
    "TRE_R23": Activity.mode,
    "TRE_R22": Activity.genre,
    "TRE_R21": Activity.role,
    "TRE_G05": Activity.pharmacist_section,
}
_SPECIALTY_COLUMNS = {"TRE_R38": Exercice.savoir_faire, "TRE_R04": Exercice.savoir_faire_type}


def _coded(columns: dict[str, Any]) -> Callable[[Token], ColumnElement[bool]]:
    def match(token: Token) -> ColumnElement[bool]:
        if token.system is None:
            return or_(*(column == token.code for column in set(columns.values())))
        for table, column in columns.items():
            if token.system == system(table):
                return column == token.code
        return false()

    return match


def _role_id(value: str) -> ColumnElement[bool]:
    parsed = practitioner_role.parse_id(value)
    if parsed is None:
        return false()
    person, position, activity = parsed
    where_activity = Activity.id.is_(None) if activity is None else Activity.position == activity
    return and_(Practitioner.id == person, Exercice.position == position, where_activity)


def _role_statement() -> Any:
    return (
        select(Practitioner, Exercice, Activity)
        .join(Exercice, Exercice.practitioner_id == Practitioner.id)
        .outerjoin(Activity, Activity.exercice_id == Exercice.id)
    )


def role_conditions(args: MultiDict[str, str]) -> list[Any]:
    params.check_names(args, ROLE_PARAMS)
    return [
        *_each_token(args, "role", _coded(_ROLE_CODE_COLUMNS)),
        *_each_token(args, "specialty", _coded(_SPECIALTY_COLUMNS)),
        *_booleans(args, "active", Practitioner.active),
        *[
            Activity.structure_id == params.reference(value, "organization", "Organization")
            for _, value in params.modifier(args, "organization", ("",))
        ],
        *[
            _int_id(Practitioner.id, params.reference(value, "practitioner", "Practitioner"))
            for _, value in params.modifier(args, "practitioner", ("",))
        ],
        *_dates(args, Practitioner.updated_at),
        *_ids(args, _role_id),
    ]


def _role_key() -> tuple[Any, Any]:
    # An exercice without activity sorts first (position -1) and has cursor 0.
    return Exercice.id, func.coalesce(Activity.position, -1)


def roles(args: MultiDict[str, str], count: int) -> Page:
    conditions = role_conditions(args)
    include = _includes(args, "_include", ROLE_INCLUDES)
    exercice_key, activity_key = _role_key()
    paged = list(conditions)
    cursor = args.get("_page")
    if cursor is not None:
        exercice_id, dot, after = cursor.partition(".")
        if not (dot and _DIGITS.fullmatch(exercice_id) and _DIGITS.fullmatch(after)):
            raise reject("Invalid _page")
        position = int(after) - 1
        paged.append(
            or_(
                exercice_key > int(exercice_id),
                and_(exercice_key == int(exercice_id), activity_key > position),
            )
        )
    total = db.session.scalar(
        select(func.count())
        .select_from(Practitioner)
        .join(Exercice, Exercice.practitioner_id == Practitioner.id)
        .outerjoin(Activity, Activity.exercice_id == Exercice.id)
        .where(*conditions)
    )
    rows = db.session.execute(
        _role_statement().where(*paged).order_by(exercice_key, activity_key).limit(count + 1)
    ).all()
    found = [Role(person, exercice, activity) for person, exercice, activity in rows]
    next_cursor = None
    if len(found) > count and count:
        last = found[count - 1]
        after = 0 if last.activity is None else last.activity.position + 1
        next_cursor = f"{last.exercice.id}.{after}"
    page = Page(found[:count], total or 0, next_cursor)
    if "PractitionerRole:practitioner" in include:
        page.includes.extend(
            {role.practitioner.id: role.practitioner for role in page.matches}.values()
        )
    if "PractitionerRole:organization" in include:
        seen: dict[str, Activity] = {}
        for role in page.matches:
            if organization.has_organization(role.activity):
                seen.setdefault(role.activity.structure_id, role.activity)
        page.includes.extend(seen.values())
    return page


def find_role(role_id: str) -> Role | None:
    parsed = practitioner_role.parse_id(role_id)
    if parsed is None:
        return None
    row = db.session.execute(_role_statement().where(_role_id(role_id)).limit(1)).first()
    return None if row is None else Role(*row)


# --- Organization -------------------------------------------------------------------------

ORGANIZATION_PARAMS = frozenset({"identifier", "name", "type", "active", "_revinclude"})
_TYPED_COLUMNS = {
    kind: getattr(Activity, column) for kind, column in organization.TYPED_IDENTIFIERS
}


def _organization_identifier(token: Token) -> ColumnElement[bool]:
    if token.system == STRUCTURE_ID_SYSTEM:
        return Activity.ancien_identifiant == token.code
    if token.system is None:
        return or_(Activity.ancien_identifiant == token.code, Activity.structure_id == token.code)
    return false()


def _typed_identifier(token: Token) -> ColumnElement[bool]:
    """``identifier:of-type=<type system>|<type code>|<value>`` (FINEG, SIRET…)."""
    kind, bar, value = token.code.partition("|")
    column = _TYPED_COLUMNS.get(kind)
    if token.system != IDENTIFIER_TYPE_SYSTEM or not bar or column is None or not value:
        raise reject("identifier:of-type takes <type system>|<type code>|<value>")
    return column == value


def _organization_type(token: Token) -> ColumnElement[bool]:
    if token.system in (None, organization.ORGANIZATION_TYPE_SYSTEM):
        if token.code == "GEOGRAPHICAL-ENTITY":
            return true()
        if token.code == "LEGAL-ENTITY":
            return false()
    if token.system in (None, system("TRE_R02")):
        return Activity.sector == token.code
    return false()


def organization_conditions(args: MultiDict[str, str]) -> list[Any]:
    params.check_names(args, ORGANIZATION_PARAMS)
    if "_lastUpdated" in args:
        raise reject("_lastUpdated is not supported on Organization")
    conditions = []
    for mod, value in params.modifier(args, "identifier", ("", "of-type")):
        match = _typed_identifier if mod == "of-type" else _organization_identifier
        conditions.append(or_(*(match(token) for token in params.tokens(value, "identifier"))))
    return [
        *conditions,
        *_strings(
            args,
            "name",
            lambda v, m: or_(_like(Activity.raison_sociale, v, m), _like(Activity.enseigne, v, m)),
        ),
        *_each_token(args, "type", _organization_type),
        *[
            true() if params.boolean(value, "active") else false()
            for _, value in params.modifier(args, "active", ("",))
        ],
        *_ids(args, lambda value: Activity.structure_id == value),
    ]


def organizations(args: MultiDict[str, str], count: int) -> Page:
    conditions = [Activity.structure_id != "", *organization_conditions(args)]
    revinclude = _includes(args, "_revinclude", ("PractitionerRole:organization",))
    paged = list(conditions)
    cursor = args.get("_page")
    if cursor is not None:
        # The last structure id of the previous page (any stored one: the column is 64 long).
        if not cursor or len(cursor) > 64:
            raise reject("Invalid _page")
        paged.append(Activity.structure_id > cursor)
    total = db.session.scalar(
        select(func.count(func.distinct(Activity.structure_id))).where(*conditions)
    )
    firsts = db.session.execute(
        select(Activity.structure_id, func.min(Activity.id))
        .where(*paged)
        .group_by(Activity.structure_id)
        .order_by(Activity.structure_id)
        .limit(count + 1)
    ).all()
    next_cursor = firsts[count - 1][0] if len(firsts) > count and count else None
    ids = [first for _, first in firsts[:count]]
    by_id = {a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(ids)))}
    found = [by_id[i] for i in ids if organization.has_organization(by_id.get(i))]
    page = Page(found, total or 0, next_cursor)
    if revinclude and found:
        # Every role practised at the page's structures (an indexed lookup per structure).
        where = Activity.structure_id.in_([a.structure_id for a in found])
        rows = db.session.execute(_role_statement().where(where).order_by(*_role_key())).all()
        page.includes = [Role(*row) for row in rows]
    return page


def find_organization(structure_id: str) -> Activity | None:
    if not FHIR_ID.fullmatch(structure_id):
        return None
    return db.session.scalar(
        select(Activity).where(Activity.structure_id == structure_id).order_by(Activity.id).limit(1)
    )


def find_practitioner(practitioner_id: str) -> Practitioner | None:
    if not _DIGITS.fullmatch(practitioner_id):
        return None
    return db.session.get(Practitioner, int(practitioner_id))
