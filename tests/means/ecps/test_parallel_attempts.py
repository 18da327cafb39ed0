"""Lockouts hold under real parallelism (a real server, threads, either database): every
attempt is counted before the PIN or the codes are compared, so parallel guesses get no more
tries than sequential ones."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.live_server import LiveServer
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

DENTIST = "899700100235"  # Dr Thomas NGUYEN
PARALLEL = 31
GRANT = "urn:openid:params:grant-type:ciba"


@pytest.fixture(scope="module")
def server(database_url: str):
    with LiveServer(env=live_database_env(database_url)) as live:
        yield live


def _call(server: LiveServer, device: VirtualDevice, method: str, path: str, **kwargs):
    url = server.url(f"/ecps/api/v1{path}")
    token = device.call_token(method, url)
    headers = {"Authorization": f"ECPS-Device {token}"}
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


def _decide(server: LiveServer, device: VirtualDevice, request: dict, pin: str):
    decision = device.decision(request["id"], "approve", request["binding_message"], pin)
    return _call(
        server, device, "POST", f"/requests/{request['id']}/decision", json={"decision": decision}
    )


@pytest.mark.e2e
def test_parallel_wrong_pins_get_three_tries_then_the_lock(server):
    device = VirtualDevice.load(
        Path(run_cli(server, "ecps", "activate", DENTIST, "--pin", "1357")["key_file"])
    )
    secret = run_cli(server, "clients", "add", "dpi-pin", "--grant-type", GRANT)["client_secret"]
    asked = requests.post(
        f"{server.issuer}/protocol/openid-connect/ext/ciba/auth",
        data={"scope": "openid", "login_hint": DENTIST, "binding_message": "31"},
        auth=("dpi-pin", secret),
        timeout=30,
    )
    assert asked.status_code == 200, asked.text
    (request,) = _call(server, device, "GET", "/requests").json()["requests"]

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(
            pool.map(lambda _: _decide(server, device, request, "0000"), range(PARALLEL))
        )
    errors = [answer.json()["error"] for answer in answers]
    assert errors.count("invalid_pin") <= 3, errors
    assert set(errors) <= {"invalid_pin", "device_locked"}, errors
    assert errors.count("device_locked") >= PARALLEL - 3

    right = _decide(server, device, request, "1357")
    assert right.status_code == 423, right.text
    assert right.json()["error"] == "device_locked"
    info = _call(server, device, "GET", "/device").json()
    assert info["status"] == "locked" and info["pin_failures"] == 3


@pytest.mark.e2e
def test_parallel_wrong_activation_codes_get_five_tries(server):
    api = server.url("/ecps/api/v1")
    started = requests.post(f"{api}/activations", json={"national_id": DENTIST}, timeout=30)
    assert started.status_code == 201, started.text
    activation_id = started.json()["activation_id"]
    device = VirtualDevice.generate()
    body = {
        "pin": "1234",
        "public_key": device.public_jwk,
        "proof": device.activation_proof(activation_id),
    }

    def complete(codes: tuple[str, str]) -> requests.Response:
        email, sms = codes
        return requests.post(
            f"{api}/activations/{activation_id}/complete",
            json={**body, "email_code": email, "sms_code": sms},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(complete, [("000000", "000000")] * PARALLEL))
    errors = [answer.json()["error"] for answer in answers]
    assert errors.count("invalid_code") <= 5, errors
    assert set(errors) <= {"invalid_code", "too_many_attempts"}, errors

    sent = run_cli(server, "outbox", "--national-id", DENTIST)
    codes = {m["channel"]: re.search(r"(\d{6})", m["body"]).group(1) for m in sent[:2]}
    right = complete((codes["email"], codes["sms"]))
    assert right.status_code == 400 and right.json()["error"] == "too_many_attempts"
