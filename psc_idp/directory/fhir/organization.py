"""Organization: a structure (site) as the activities practised there describe it.

There is no structure table: a structure lives on each activity practised there, so an
Organization is read from the first activity with its ``structure_id`` (indexed), and its id
is that structure id."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.organization import Organization as FhirOrganization

from psc_idp.directory.fhir.systems import (
    FHIR_ID,
    IDENTIFIER_TYPE_SYSTEM,
    ORGANIZATION_TYPE_SYSTEM,
    STRUCTURE_ID_SYSTEM,
    coding,
)
from psc_idp.directory.models import Activity

#: Identifier columns of an activity, by their v2-0203 type (as the importer reads them back).
TYPED_IDENTIFIERS = (
    ("FINEG", "finess_site"),
    ("FINEJ", "finess_juridique"),
    ("SIRET", "siret"),
    ("SIREN", "siren"),
    ("INTRN", "structure_id"),
)


def has_organization(activity: Activity | None) -> bool:
    """Only structures with a usable id are published (a FHIR id is ``[A-Za-z0-9.-]{1,64}``)."""
    return activity is not None and bool(FHIR_ID.fullmatch(activity.structure_id))


def _identifiers(activity: Activity) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if activity.ancien_identifiant:
        found.append(
            {"use": "old", "system": STRUCTURE_ID_SYSTEM, "value": activity.ancien_identifiant}
        )
    for kind, column in TYPED_IDENTIFIERS:
        value = getattr(activity, column)
        if value:
            found.append(
                {
                    "use": "official",
                    "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": kind}]},
                    "value": value,
                }
            )
    return found


def _types(activity: Activity) -> list[dict[str, Any]]:
    kind = {"system": ORGANIZATION_TYPE_SYSTEM, "code": "GEOGRAPHICAL-ENTITY"}
    found: list[dict[str, Any]] = [{"coding": [kind]}]
    if activity.sector:
        found.append({"coding": [coding("TRE_R02", activity.sector)]})
    return found


def _address(activity: Activity) -> list[dict[str, Any]]:
    street = " ".join(
        part
        for part in (
            activity.numero_voie,
            activity.indice_repetition_voie,
            activity.code_type_voie,
            activity.libelle_voie,
        )
        if part
    )
    address: dict[str, Any] = {}
    if street:
        address["line"] = [street]
    if activity.code_postal:
        address["postalCode"] = activity.code_postal
    city = activity.bureau_cedex.removeprefix(activity.code_postal).strip()
    if city:
        address["city"] = city
    return [address] if address else []


def _telecom(activity: Activity) -> list[dict[str, str]]:
    found = []
    for system, value in (("phone", activity.telephone), ("email", activity.email)):
        if value:
            found.append({"system": system, "value": value, "use": "work"})
    return found


def to_fhir(activity: Activity) -> FhirOrganization:
    data: dict[str, Any] = {
        "resourceType": "Organization",
        "id": activity.structure_id,
        "identifier": _identifiers(activity),
        "active": True,
        "type": _types(activity),
        "address": _address(activity),
        "telecom": _telecom(activity),
    }
    if activity.raison_sociale:
        data["name"] = activity.raison_sociale
    if activity.enseigne:
        data["alias"] = [activity.enseigne]
    return FhirOrganization.model_validate(data)
