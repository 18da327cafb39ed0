"""Finding practitioners: by national id for logins and userinfo, by text for the dev picker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from psc_idp.directory import codes
from psc_idp.directory.models import Exercice, Practitioner
from psc_idp.directory.userinfo import display_names, first_activity
from psc_idp.extensions import db

MAX_SEARCH_RESULTS = 200


def _with_identity() -> tuple[Any, ...]:
    # One query per level (practitioner, exercices, activities, other ids), never one per row.
    return (
        selectinload(Practitioner.exercices).selectinload(Exercice.activities),
        selectinload(Practitioner.other_ids),
    )


def find_practitioner(national_id: str) -> Practitioner | None:
    """The practitioner with this exact (normalised) national id, active or not.

    One query with joins: this is on the UserInfo and token hot paths, where each round trip
    through the ORM costs more than the few duplicated rows of a join."""
    if not national_id:
        return None
    query = (
        select(Practitioner)
        .where(Practitioner.national_id == national_id)
        .options(
            joinedload(Practitioner.exercices).joinedload(Exercice.activities),
            joinedload(Practitioner.other_ids),
        )
    )
    return db.session.scalars(query).unique().first()


def _matching(query: str) -> Any:
    """National id starting with ``query``, or names containing it (case-insensitive)."""
    text = (query or "").strip()
    if not text:
        return None
    pattern = text.lower()
    return or_(
        Practitioner.national_id.startswith(text.upper(), autoescape=True),
        func.lower(Practitioner.family_name).contains(pattern, autoescape=True),
        func.lower(Practitioner.given_names).contains(pattern, autoescape=True),
        Practitioner.exercices.any(
            or_(
                func.lower(Exercice.nom_exercice).contains(pattern, autoescape=True),
                func.lower(Exercice.prenom_exercice).contains(pattern, autoescape=True),
            )
        ),
    )


def practitioner_is_active(national_id: str) -> bool:
    """Whether the practitioner may still use their tokens (one column, one row)."""
    query = select(Practitioner.active).where(Practitioner.national_id == national_id)
    return bool(db.session.scalar(query))


def search_practitioners(query: str = "", limit: int = 50) -> list[Practitioner]:
    """Practitioners whose national id starts with ``query`` or whose names contain it
    (case-insensitive), by family name."""
    statement = select(Practitioner).options(*_with_identity())
    condition = _matching(query)
    if condition is not None:
        statement = statement.where(condition)
    limit = max(1, min(int(limit), MAX_SEARCH_RESULTS))
    statement = statement.order_by(
        Practitioner.family_name, Practitioner.given_names, Practitioner.national_id
    ).limit(limit)
    return list(db.session.scalars(statement))


def count_practitioners(query: str = "") -> int:
    """How many practitioners ``search_practitioners`` would find without its limit."""
    statement = select(func.count()).select_from(Practitioner)
    condition = _matching(query)
    if condition is not None:
        statement = statement.where(condition)
    return db.session.scalar(statement) or 0


def display_name(practitioner: Practitioner) -> str:
    """Name as shown to people: "Dr Kit DOC0036624" (civilité d'exercice, prénom, nom)."""
    exercice = practitioner.exercices[0] if practitioner.exercices else None
    civility = (exercice.civilite_exercice if exercice else "") or practitioner.civility
    given, family = display_names(practitioner)
    parts = (codes.CIVILITE_ABBREVIATIONS.get(civility, civility), given.title(), family.upper())
    return " ".join(part for part in parts if part)


def summary(practitioner: Practitioner) -> dict[str, Any]:
    """What a picker or a listing shows of a practitioner."""
    exercice = practitioner.exercices[0] if practitioner.exercices else None
    activity = first_activity(practitioner)
    return {
        "national_id": practitioner.national_id,
        "display_name": display_name(practitioner),
        "profession_label": codes.profession_label(exercice.profession if exercice else ""),
        "savoir_faire_label": codes.label(
            codes.SAVOIR_FAIRE, exercice.savoir_faire if exercice else ""
        ),
        "structure": activity.raison_sociale if activity else "",
        "active": practitioner.active,
    }
