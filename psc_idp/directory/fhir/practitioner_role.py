"""PractitionerRole: one exercice of a practitioner in one of its activities (a situation
d'exercice). Its id is ``<practitioner id>-<exercice position>-<activity position>``, or
``<practitioner id>-<exercice position>`` for an exercice without any activity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole

from psc_idp.directory import codes
from psc_idp.directory.fhir.organization import has_organization
from psc_idp.directory.fhir.systems import EXERCISE_NAME_URL, coding
from psc_idp.directory.models import Activity, Exercice, Practitioner
from psc_idp.timeutil import iso_utc

ROLE_ID = re.compile(r"([0-9]{1,9})-([0-9]{1,6})(?:-([0-9]{1,6}))?")


@dataclass(frozen=True)
class Role:
    practitioner: Practitioner
    exercice: Exercice
    activity: Activity | None

    @property
    def id(self) -> str:
        head = f"{self.practitioner.id}-{self.exercice.position}"
        return head if self.activity is None else f"{head}-{self.activity.position}"


def parse_id(value: str) -> tuple[int, int, int | None] | None:
    match = ROLE_ID.fullmatch(value)
    if not match:
        return None
    practitioner, exercice, activity = match.groups()
    return int(practitioner), int(exercice), None if activity is None else int(activity)


def profession_table(code: str) -> str:
    return "TRE_R85" if code in codes.STAFF_PROFESSIONS else "TRE_G15"


def _code(exercice: Exercice, activity: Activity | None) -> list[dict[str, Any]]:
    profession = [
        coding(profession_table(exercice.profession), exercice.profession)
        | {"display": codes.profession_label(exercice.profession)}
    ]
    if exercice.category:
        profession.append(coding("TRE_R09", exercice.category))
    found: list[dict[str, Any]] = [{"coding": profession}]
    if activity is not None:
        situation = [
            coding(table, getattr(activity, column))
            for table, column in (
                ("TRE_R23", "mode"),
                ("TRE_R22", "genre"),
                ("TRE_R21", "role"),
                ("TRE_G05", "pharmacist_section"),
            )
            if getattr(activity, column)
        ]
        if situation:
            found.append({"coding": situation})
    return found


def _specialty(exercice: Exercice) -> list[dict[str, Any]]:
    if not exercice.savoir_faire:
        return []
    specialty = coding("TRE_R38", exercice.savoir_faire) | {
        "display": codes.label(codes.SAVOIR_FAIRE, exercice.savoir_faire)
    }
    found = [{"coding": [specialty]}]
    if exercice.savoir_faire_type:
        found.append({"coding": [coding("TRE_R04", exercice.savoir_faire_type)]})
    return found


def _exercise_name(exercice: Exercice) -> list[dict[str, Any]]:
    name: dict[str, Any] = {}
    if exercice.nom_exercice:
        name["family"] = exercice.nom_exercice
    if exercice.prenom_exercice:
        name["given"] = [exercice.prenom_exercice]
    if exercice.civilite_exercice:
        name["suffix"] = [exercice.civilite_exercice]
    return [{"url": EXERCISE_NAME_URL, "valueHumanName": name}] if name else []


def to_fhir(role: Role) -> FhirPractitionerRole:
    practitioner, exercice, activity = role.practitioner, role.exercice, role.activity
    data: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": role.id,
        "meta": {"lastUpdated": iso_utc(practitioner.updated_at)},
        "extension": _exercise_name(exercice),
        "active": practitioner.active,
        "practitioner": {"reference": f"Practitioner/{practitioner.id}"},
        "code": _code(exercice, activity),
        "specialty": _specialty(exercice),
    }
    if activity is not None and has_organization(activity):
        data["organization"] = {"reference": f"Organization/{activity.structure_id}"}
    return FhirPractitionerRole.model_validate(data)
