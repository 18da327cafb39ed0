"""``/metadata``: the CapabilityStatement, listing what the server really supports."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from psc_idp.directory.fhir.api_keys import HEADER
from psc_idp.directory.fhir.search import ROLE_INCLUDES

#: FHIR version of the Annuaire Santé API (R4); the R4B models write these resources alike.
FHIR_VERSION = "4.0.1"

_COMMON = [("_id", "token"), ("_lastUpdated", "date")]
SEARCH_PARAMS: dict[str, list[tuple[str, str]]] = {
    "Practitioner": [
        ("identifier", "token"),
        ("name", "string"),
        ("family", "string"),
        ("given", "string"),
        ("active", "token"),
        *_COMMON,
    ],
    "PractitionerRole": [
        ("role", "token"),
        ("specialty", "token"),
        ("active", "token"),
        ("organization", "reference"),
        ("practitioner", "reference"),
        *_COMMON,
    ],
    "Organization": [
        ("identifier", "token"),
        ("name", "string"),
        ("type", "token"),
        ("active", "token"),
        ("_id", "token"),
    ],
}


def _resource(kind: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [{"name": name, "type": type_} for name, type_ in SEARCH_PARAMS[kind]],
    }
    if kind == "PractitionerRole":
        resource["searchInclude"] = list(ROLE_INCLUDES)
    if kind in ("Practitioner", "Organization"):
        resource["searchRevInclude"] = [f"PractitionerRole:{kind.lower()}"]
    return resource


def capability_statement(base_url: str, version: str, moment: str) -> CapabilityStatement:
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": moment,
            "publisher": "psc-idp",
            "kind": "instance",
            "software": {"name": "psc-idp", "version": version},
            "implementation": {"description": "Annuaire Santé (lecture seule)", "url": base_url},
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": f"En-tête {HEADER} exigé dès qu'une clé est configurée."
                    },
                    "resource": [_resource(kind) for kind in SEARCH_PARAMS],
                }
            ],
        }
    )
