"""Read by id and search by identifier: the resources as the Annuaire Santé writes them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from tests.directory.fhir.conftest import STUDENT_ID, fhir_get, resources, search

NATIONAL = "urn:oid:1.2.250.1.71.4.2.1"
RPPS = "https://rpps.esante.gouv.fr"
STRUCTURE = "urn:oid:1.2.250.1.71.4.2.2"


def _row_id(app: Flask, national_id: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Practitioner.id).where(Practitioner.national_id == national_id)
        )


def test_practitioner_read_gives_national_id_rpps_and_names(app: Flask, client: FlaskClient):
    row_id = _row_id(app, "899700100151")
    practitioner = fhir_get(client, f"/fhir/v1/Practitioner/{row_id}")
    assert practitioner["id"] == str(row_id)
    systems = {i["system"]: i["value"] for i in practitioner["identifier"]}
    assert systems == {NATIONAL: "899700100151", RPPS: "99700100151"}
    assert practitioner["name"][0]["family"] == "LEFEBVRE"
    assert practitioner["name"][0]["given"] == ["CLAIRE", "MARIE"]
    assert practitioner["active"] is True
    assert practitioner["meta"]["lastUpdated"].endswith("Z")
    # Personal data of the extract stays out of the public directory.
    assert "birthDate" not in practitioner and "telecom" not in practitioner


def test_search_by_identifier_with_each_system(client: FlaskClient) -> None:
    for query in (f"{NATIONAL}|899700218896", f"{RPPS}|99700218896", "899700218896"):
        bundle = search(client, f"/fhir/v1/Practitioner?identifier={query}")
        assert bundle["total"] == 1, query
        [found] = resources(bundle)
        assert {i["system"]: i["value"] for i in found["identifier"]}[NATIONAL] == "899700218896"
    other_system = search(client, "/fhir/v1/Practitioner?identifier=urn:other|899700218896")
    assert other_system["total"] == 0 and "entry" not in other_system


def test_identifier_alternatives_are_ored(client: FlaskClient) -> None:
    bundle = search(
        client, f"/fhir/v1/Practitioner?identifier=899700218896,{NATIONAL}|899700366240"
    )
    ids = sorted(r["identifier"][0]["value"] for r in resources(bundle))
    assert ids == ["899700218896", "899700366240"]


def test_practitioner_role_read_has_codes_exercise_name_and_organization(
    app: Flask, client: FlaskClient
) -> None:
    row_id = _row_id(app, "899700427885")
    role = fhir_get(client, f"/fhir/v1/PractitionerRole/{row_id}-0-1")
    assert role["practitioner"]["reference"] == f"Practitioner/{row_id}"
    assert role["organization"]["reference"] == "Organization/F0B0193488"
    codings = [c for concept in role["code"] for c in concept["coding"]]
    assert {
        "system": "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante",
        "code": "10",
        "display": "Médecin",
    } in codings
    assert any("TRE_R09" in c["system"] and c["code"] == "C" for c in codings)
    assert any("TRE_R23" in c["system"] and c["code"] == "S" for c in codings)
    [name] = role["extension"]
    assert name["url"].endswith("PractitionerRole-Name")
    assert name["valueHumanName"]["family"] == "DOC0042788"
    specialties = [c for concept in role["specialty"] for c in concept["coding"]]
    assert any("TRE_R38" in c["system"] and c["code"] == "SM26" for c in specialties)


def test_role_of_an_exercice_without_activity(app: Flask, client: FlaskClient) -> None:
    row_id = _row_id(app, STUDENT_ID)
    role = fhir_get(client, f"/fhir/v1/PractitionerRole/{row_id}-0")
    assert "organization" not in role
    assert role["practitioner"]["reference"] == f"Practitioner/{row_id}"
    fhir_get(client, f"/fhir/v1/PractitionerRole/{row_id}-0-0", status=404)


def test_organization_read_has_identifiers_type_and_sector(client: FlaskClient) -> None:
    organization = fhir_get(client, "/fhir/v1/Organization/F0B0690117")
    assert organization["id"] == "F0B0690117"
    by_system = {i.get("system"): i["value"] for i in organization["identifier"]}
    assert by_system[STRUCTURE] == "10B0690117"
    typed = {
        i["type"]["coding"][0]["code"]: i["value"]
        for i in organization["identifier"]
        if "type" in i
    }
    assert typed["FINEG"] == "0B0690117" and typed["FINEJ"] == "0B0690117"
    codes = [c["code"] for concept in organization["type"] for c in concept["coding"]]
    assert "GEOGRAPHICAL-ENTITY" in codes and "SA33" in codes


def test_organization_search_by_identifier_is_the_structure_id(client: FlaskClient) -> None:
    for query in (f"{STRUCTURE}|10B0690117", "10B0690117", "F0B0690117"):
        bundle = search(client, f"/fhir/v1/Organization?identifier={query}")
        assert [r["id"] for r in resources(bundle)] == ["F0B0690117"], query
        assert bundle["total"] == 1


def test_unknown_ids_are_404_operation_outcomes(client: FlaskClient) -> None:
    for url in (
        "/fhir/v1/Practitioner/999999999",
        "/fhir/v1/Practitioner/abc",
        "/fhir/v1/Practitioner/99999999999999999999999999",
        "/fhir/v1/PractitionerRole/1-99-99",
        "/fhir/v1/PractitionerRole/nope",
        "/fhir/v1/Organization/R0000000000000",
        "/fhir/v1/Organization/a%20b",
        "/fhir/v1/Patient/1",
        "/fhir/v1/Patient",
    ):
        outcome = fhir_get(client, url, status=404)
        assert outcome["resourceType"] == "OperationOutcome", url
        assert outcome["issue"][0]["code"] == "not-found"


def test_capability_statement_lists_the_resources(client: FlaskClient) -> None:
    statement = fhir_get(client, "/fhir/v1/metadata")
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    [rest] = statement["rest"]
    kinds = {r["type"]: r for r in rest["resource"]}
    assert set(kinds) == {"Practitioner", "PractitionerRole", "Organization"}
    assert "PractitionerRole:organization" in kinds["PractitionerRole"]["searchInclude"]
