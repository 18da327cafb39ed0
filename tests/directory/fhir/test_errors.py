"""Bad parameters are 400 OperationOutcomes, hostile values never a 5xx, and the API is
read only."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.directory.fhir.conftest import FHIR_JSON, fhir_get, parse


@pytest.mark.parametrize(
    "query",
    [
        "Practitioner?foo=bar",
        "Practitioner?role=10",  # a PractitionerRole parameter
        "Practitioner?family:sounds=X",
        "Practitioner?active=yes",
        "Practitioner?_count=-1",
        "Practitioner?_count=abc",
        "Practitioner?_count=%C2%B2",  # a Unicode digit
        "Practitioner?_count=1&_count=2",
        "Practitioner?_page=abc",
        "Practitioner?_lastUpdated=yesterday",
        "Practitioner?_lastUpdated=2024-13-01",
        "Practitioner?_lastUpdated=9999-12",
        "Practitioner?_lastUpdated=ne2024",
        "Practitioner?_lastUpdated=2024-01-01T10:00",  # a time needs a zone
        "Practitioner?_revinclude=Organization:partof",
        "Practitioner?identifier=",
        "Practitioner?identifier=urn:x|",
        "Practitioner?family=",
        "Practitioner?_format=xml",
        "Practitioner?identifier=" + ",".join(["1"] * 60),
        "Practitioner?family=" + "A" * 300,
        "PractitionerRole?_include=Practitioner:organization",
        "PractitionerRole?organization=Practitioner/1",
        "PractitionerRole?_page=1",
        "PractitionerRole?_page=1.x",
        "Organization?_lastUpdated=2024",
        "Organization?identifier:of-type=FINEG",
        "Organization?_page=" + "R" * 65,
    ],
)
def test_bad_parameters_are_400_operation_outcomes(client: FlaskClient, query: str) -> None:
    outcome = fhir_get(client, f"/fhir/v1/{query}", status=400)
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["severity"] == "error" and issue["code"] == "invalid" and issue["diagnostics"]


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/v1/Practitioner?family=%00",
        "/fhir/v1/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|8%00",
        "/fhir/v1/Practitioner?fam%00ily=X",
        "/fhir/v1/Practitioner/1%00",
        "/fhir/v1/Organization/R%00",
        "/fhir/v1/PractitionerRole?organization=%00",
    ],
)
def test_nul_is_refused_with_an_operation_outcome(client: FlaskClient, url: str) -> None:
    outcome = fhir_get(client, url, status=400)
    assert outcome["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "query",
    [
        "Practitioner?family=%27%3B DROP TABLE dir_practitioner;--",
        "Practitioner?name=%F0%9F%98%80",
        "Practitioner?given=%5C",
        "Practitioner?identifier=%7C%7C%7C",
        "Practitioner?_id=99999999999999999999999",
        "Practitioner?_page=999999999999999999",
        "PractitionerRole?practitioner=99999999999999999999999999",
        "PractitionerRole?_id=1-2-3,9999999999999999999-1",
        "Organization?identifier=%E2%80%AE",
        "Organization?_id=a/b",
        "Organization?_page=%C3%A9%E2%80%AE",
    ],
)
def test_hostile_values_are_answered_never_a_5xx(client: FlaskClient, query: str) -> None:
    response = client.get(f"/fhir/v1/{query}")
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.content_type == FHIR_JSON
    parse(response.get_json(force=True))


def test_the_api_is_read_only(client: FlaskClient) -> None:
    response = client.post("/fhir/v1/Practitioner", json={"resourceType": "Practitioner"})
    assert response.status_code == 405
    assert response.content_type == FHIR_JSON
    assert response.get_json(force=True)["issue"][0]["code"] == "not-supported"
    assert "GET" in response.headers["Allow"]
    assert client.delete("/fhir/v1/Practitioner/1").status_code == 405


def test_a_browser_gets_an_operation_outcome_too(client: FlaskClient) -> None:
    response = client.get("/fhir/v1/Nothing/here/at/all", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.content_type == FHIR_JSON
    assert response.get_json(force=True)["resourceType"] == "OperationOutcome"
