"""Every route of the app (read from its URL map, so a new route is covered), every method it
allows, hostile path values, query, form, JSON and headers: never a 5xx."""

from __future__ import annotations

import re

import pytest

from tests.http.hostile import DEEP_JSON, DEEP_JWS, DEEP_PAYLOAD_JWS

PATH_VALUES = ["nul\x00", "%00", "x" * 10_000, "ĉé\u202e🙂", DEEP_JWS]
HEADERS = [
    {"Authorization": f"Bearer {DEEP_JWS}"},
    {"Authorization": f"ECPS-Device {DEEP_PAYLOAD_JWS}", "DPoP": DEEP_JWS},
    {"Authorization": "Basic dGVzdC13ZWIlMDA6eA=="},  # test-web%00:x
]
FIELDS = ["client_id", "token", "id_token_hint", "national_id", "name", "decision", "q"]


def _routes(app) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rules.append((rule.rule, method))
    return rules


def _paths(rule: str) -> list[str]:
    if "<" not in rule:
        return [rule]
    return [re.sub(r"<[^>]+>", lambda _m, v=value: v, rule) for value in PATH_VALUES]


def test_sweep_finds_the_routes(app):
    routes = _routes(app)
    assert len(routes) > 40
    assert ("/ecps/api/v1/requests/<push_id>/decision", "POST") in routes


@pytest.mark.parametrize("value", ["nul\x00", "x" * 10_000, DEEP_JWS, "é\u202e"])
def test_no_route_answers_5xx(app, value):
    http = app.test_client()
    failures = []
    for rule, method in _routes(app):
        if rule.startswith("/static"):
            continue
        for path in _paths(rule):
            fields = {name: value for name in FIELDS}
            attempts = [
                {"query_string": fields},
                {"data": fields} if method != "GET" else {"query_string": {"q": value}},
                {"data": DEEP_JSON, "content_type": "application/json"},
                {"json": {name: value for name in FIELDS} | {"nested": [[{"a": value}]]}},
                *({"headers": headers} for headers in HEADERS),
            ]
            for attempt in attempts:
                response = http.open(path, method=method, **attempt)
                if response.status_code >= 500:
                    failures.append((method, path[:80], sorted(attempt), response.status_code))
    assert failures == []
