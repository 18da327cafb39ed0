"""Practitioner: the person, identified by the national id (and the RPPS for ``8…`` ids).

Only what the public directory shows: names and identifiers. Birth date and the contact data
of the extract (used for e-CPS activation) are personal data and stay out of the API."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner

from psc_idp.directory.fhir.systems import (
    IDENTIFIER_TYPE_SYSTEM,
    NATIONAL_ID_SYSTEM,
    RPPS_SYSTEM,
)
from psc_idp.directory.models import Practitioner
from psc_idp.timeutil import iso_utc


def identifiers(practitioner: Practitioner) -> list[dict[str, Any]]:
    national_id = practitioner.national_id
    found = [_identifier(NATIONAL_ID_SYSTEM, "IDNPS", national_id)]
    if national_id.startswith("8"):
        found.append(_identifier(RPPS_SYSTEM, "RPPS", national_id[1:]))
    return found


def _identifier(system: str, kind: str, value: str) -> dict[str, Any]:
    return {
        "use": "official",
        "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": kind}]},
        "system": system,
        "value": value,
    }


def _name(practitioner: Practitioner) -> list[dict[str, Any]]:
    name: dict[str, Any] = {"use": "usual"}
    if practitioner.family_name:
        name["family"] = practitioner.family_name
    if practitioner.given_name_list:
        name["given"] = practitioner.given_name_list
    if practitioner.civility:
        name["prefix"] = [practitioner.civility]
    return [name] if len(name) > 1 else []


def to_fhir(practitioner: Practitioner) -> FhirPractitioner:
    return FhirPractitioner.model_validate(
        {
            "resourceType": "Practitioner",
            "id": str(practitioner.id),
            "meta": {"lastUpdated": iso_utc(practitioner.updated_at)},
            "identifier": identifiers(practitioner),
            "active": practitioner.active,
            "name": _name(practitioner),
        }
    )
