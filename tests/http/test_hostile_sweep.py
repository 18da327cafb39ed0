"""Every route of the app (read from its URL map, so a new route is covered), every method it
allows, hostile path values, query, form, JSON and headers: never a 5xx."""

from __future__ import annotations

import re

import pytest

from tests.http.hostile import DEEP_JSON, DEEP_JWS, DEEP_PAYLOAD_JWS

#: Each fills the path variables, the query, the form and the JSON of one round.
VALUES = ["nul\x00", "%00", "x" * 10_000, "ĉé\u202e🙂", DEEP_JWS]
HEADERS = [
    {"Authorization": f"Bearer {DEEP_JWS}"},
    {"Authorization": f"ECPS-Device {DEEP_PAYLOAD_JWS}", "DPoP": DEEP_JWS},
    {"Authorization": "Basic dGVzdC13ZWIlMDA6eA=="},  # test-web%00:x
]
FIELDS = ["client_id", "token", "id_token_hint", "national_id", "name", "decision", "q"]


def _routes(app) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD"}):
            rules.append((rule.rule, method))
    return rules


def _path(rule: str, value: str) -> str:
    return re.sub(r"<[^>]+>", lambda _match: value, rule)


def test_sweep_finds_the_routes(app):
    routes = _routes(app)
    assert len(routes) > 40
    assert ("/ecps/api/v1/requests/<push_id>/decision", "POST") in routes


@pytest.fixture(scope="module")
def logged_in(app):
    """A professional's browser with an SSO session, so account pages go past the login."""
    from tests.means.ecps.helpers import activate_by_contact
    from tests.means.ecps.test_account_and_outbox import _log_in_to_account

    activate_by_contact(app, "899700100565")
    return _log_in_to_account(app, "899700100565").http


@pytest.mark.parametrize("who", ["anonymous", "logged-in"])
@pytest.mark.parametrize("value", VALUES, ids=["nul", "pct-nul", "10k", "deep-jws", "unicode"])
def test_no_route_answers_5xx(app, request, who, value):
    http = app.test_client() if who == "anonymous" else request.getfixturevalue("logged_in")
    failures = []
    for rule, method in _routes(app):
        if rule.startswith("/static"):
            continue
        path = _path(rule, value)
        fields = {name: value for name in FIELDS}
        attempts = [
            {"query_string": fields},
            {"data": fields} if method != "GET" else {"query_string": {"q": value}},
            {"data": DEEP_JSON, "content_type": "application/json"},
            {"json": fields | {"nested": [[{"a": value}]]}},
            *({"headers": headers} for headers in HEADERS),
        ]
        for attempt in attempts:
            response = http.open(path, method=method, **attempt)
            if response.status_code >= 500:
                failures.append((method, path[:80], sorted(attempt), response.status_code))
    assert failures == []
