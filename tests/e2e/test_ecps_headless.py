"""CI without a phone: an SP login approved by ``psc-idp ecps approve`` run as a separate
process next to the server, and by a realm scenario — both against a real server."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

CALLBACK = "http://localhost:3000/callback"


def psc_idp(server, *args: str) -> dict:
    """Run the psc-idp command on the server's database and keys, as a CI job would."""
    command = [str(Path(sys.executable).with_name("psc-idp")), *args, "--json"]
    result = subprocess.run(
        command, env=server.environment(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def start_ecps_login(server, national_id: str) -> tuple[requests.Session, str, str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    http = requests.Session()
    start = http.get(
        server.url("/wallet/auth"),
        params={
            "response_type": "code",
            "client_id": "demo-web",
            "redirect_uri": CALLBACK,
            "scope": "openid scope_all",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
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
    query = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["Location"]).query).items()}
    tokens = requests.post(
        f"{server.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=("demo-web", server.demo_secret("demo-web")),
        timeout=10,
    ).json()
    return jwt.decode(tokens["id_token"], options={"verify_signature": False})


@pytest.mark.e2e
def test_login_approved_with_the_command_line_device(live_server):
    national_id = "899700100235"
    psc_idp(live_server, "ecps", "activate", national_id, "--pin", "1357")
    http, means, csrf, verifier = start_ecps_login(live_server, national_id)
    approved = psc_idp(live_server, "ecps", "approve", national_id, "--pin", "1357", "--wait", "20")
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
