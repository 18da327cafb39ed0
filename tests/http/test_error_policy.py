"""One error policy per blueprint: every route is covered by the policy its blueprint
registered; JSON APIs answer JSON whatever the caller accepts, pages answer French pages."""

from __future__ import annotations

from psc_idp.http.errors import POLICIES

HTML = {"Accept": "text/html"}


def test_every_blueprint_registers_its_policy(app):
    policies = app.extensions[POLICIES]
    owners = {name: [p for p in policies if name in p.blueprints] for name in app.blueprints}
    assert {name for name, found in owners.items() if len(found) != 1} == set()
    uncovered = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.count(".") == 1
        and not owners[rule.endpoint.split(".")[0]][0].covers(rule.rule)
    ]
    assert uncovered == []


def test_json_apis_answer_json_even_to_a_browser(app):
    http = app.test_client()
    for path in (
        "/auth/realms/esante-wallet/protocol/openid-connect/nothing",
        "/ecps/api/v1/nothing",
        "/ecps/api/v2",
    ):
        response = http.get(path, headers=HTML)
        assert response.status_code == 404 and response.is_json, path
        assert response.get_json()["error"] == "invalid_request"
    fhir = http.get("/fhir/v2/Practitioner", headers=HTML)
    assert fhir.status_code == 404 and fhir.get_json()["resourceType"] == "OperationOutcome"


def test_pages_answer_pages(app):
    http = app.test_client()
    for path in ("/wallet/nothing", "/auth/realms/esante-wallet/protocol/openid-connect/logout"):
        response = http.get(path + "?client_id=a&client_id=b", headers=HTML)
        assert response.status_code in (400, 404), path
        assert response.mimetype == "text/html" and 'lang="fr"' in response.get_data(True), path
