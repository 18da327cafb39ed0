"""CI without a phone: an SP login approved by ``psc-idp ecps approve`` run as a separate
process next to the server, and by a realm scenario — both against a real server."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.relying_party import (
    callback_query,
    exchange_code,
    id_token_claims,
    run_cli,
    start_authorization,
)


def start_ecps_login(server, national_id: str) -> tuple[requests.Session, str, str, str]:
    http, start, verifier = start_authorization(server)
    means = server.url(start.headers["Location"] + "/ecps")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get(means).text).group(1)
    sent = http.post(
        means,
        data={"csrf_token": csrf, "step": "identify", "national_id": national_id},
        allow_redirects=False,
    )
    assert sent.status_code == 302, sent.text
    return http, means, csrf, verifier


def wait_and_complete(server, http, means: str, csrf: str, verifier: str) -> dict:
    deadline = time.monotonic() + 30
    while http.get(f"{means}/status").json()["status"] == "pending":
        assert time.monotonic() < deadline, "the e-CPS request was never answered"
        time.sleep(0.3)
    done = http.post(means, data={"csrf_token": csrf, "step": "complete"}, allow_redirects=False)
    back = http.get(server.url(done.headers["Location"]), allow_redirects=False)
    query = callback_query(back.headers["Location"])
    tokens = exchange_code(server, query["code"], verifier)
    return id_token_claims(tokens)


@pytest.mark.e2e
def test_login_approved_with_the_command_line_device(live_server):
    national_id = "899700100235"
    run_cli(live_server, "ecps", "activate", national_id, "--pin", "1357")
    http, means, csrf, verifier = start_ecps_login(live_server, national_id)
    approved = run_cli(live_server, "ecps", "approve", national_id, "--pin", "1357", "--wait", "20")
    assert approved["status"] == "approved" and approved["client_name"]
    claims = wait_and_complete(live_server, http, means, csrf, verifier)
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        national_id,
        "MOBILE",
        "eidas1",
    )


@pytest.mark.e2e
def test_login_approved_by_the_demo_realm_scenario(live_server):
    # Demo realm: 899700100565 approves every e-CPS request after 2 seconds.
    http, means, csrf, verifier = start_ecps_login(live_server, "899700100565")
    claims = wait_and_complete(live_server, http, means, csrf, verifier)
    assert claims["authMode"] == "MOBILE"
