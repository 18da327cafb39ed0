"""What a relying party does against a real server (``LiveServer``), in the e2e, browser and
deployment tests: read the callback, exchange the code, run the psc-idp command next to it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests

CALLBACK = "http://localhost:3000/callback"


def start_authorization(server: Any, **extra: str) -> tuple[requests.Session, Any, str]:
    """A browser (``requests.Session`` keeping cookies) sent by demo-web to the authorization
    endpoint with PKCE; returns (browser, the 302 response, the PKCE verifier)."""
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
            **extra,
        },
        allow_redirects=False,
    )
    return http, start, verifier


def callback_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def exchange_code(server: Any, code: str, verifier: str, client_id: str = "demo-web") -> dict:
    """The token response for ``code`` (demo-web, client_secret_basic)."""
    response = requests.post(
        f"{server.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client_id, server.demo_secret(client_id)),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def id_token_claims(tokens: dict) -> dict[str, Any]:
    return jwt.decode(tokens["id_token"], options={"verify_signature": False})


def run_cli(server: Any, *args: str) -> dict:
    """``psc-idp … --json`` on the server's database and keys, as an operator or a CI job."""
    command = [str(Path(sys.executable).with_name("psc-idp")), *args, "--json"]
    done = subprocess.run(
        command, env=server.environment(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)
