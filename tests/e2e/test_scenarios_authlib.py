"""Error scenarios met by a Python relying party (Authlib's ``OAuth2Session``) against a real
server in development mode: a token endpoint that answers ``invalid_grant``, then an ID token
already expired, which Authlib's ID token rules refuse. The scenarios are added and removed
with ``psc-idp scenarios``, as a developer would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

CLIENT_ID = "demo-web"
REDIRECT = "http://localhost:3000/callback"
#: A professional no other end-to-end test logs in with: the scenarios name only them.
NATIONAL_ID = "899700100649"
TIMEOUT = 15


def _cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("psc-idp")), *args],
        env=server.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _login(authorization_url: str) -> str:
    http = requests.Session()

    def follow(url: str, data: dict[str, str] | None = None) -> str:
        response = (
            http.get(url, allow_redirects=False, timeout=TIMEOUT)
            if data is None
            else http.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
        )
        assert response.status_code in (302, 303), (url, response.status_code, response.text)
        return urljoin(url, response.headers["Location"])

    login_page = follow(authorization_url)
    assert urlsplit(login_page).path.startswith("/wallet/login/"), login_page
    page = http.get(f"{login_page}/dev", timeout=TIMEOUT).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "national_id": NATIONAL_ID, "auth_mode": "CARD"}
    return follow(follow(f"{login_page}/dev", form))


def _session(server: LiveServer) -> OAuth2Session:
    return OAuth2Session(
        CLIENT_ID,
        server.demo_secret(CLIENT_ID),
        scope="openid scope_all",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def _code_flow(server: LiveServer, metadata: dict) -> tuple[OAuth2Session, dict, str]:
    rp = _session(server)
    verifier, nonce = generate_token(64), generate_token(24)
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = _login(url)
    token = rp.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    return rp, token, nonce


def test_authlib_meets_a_forced_token_error_then_an_expired_id_token(live_server: LiveServer):
    metadata = requests.get(live_server.discovery_url, timeout=TIMEOUT).json()
    add = ["scenarios", "add", "--client", CLIENT_ID, "--national-id", NATIONAL_ID, "--json"]
    try:
        added = _cli(live_server, *add, "--endpoint", "token", "--error", "invalid_grant")
        assert added.returncode == 0, added.stderr
        scenario = json.loads(added.stdout)["id"]
        with pytest.raises(OAuthError) as refused:
            _code_flow(live_server, metadata)
        assert refused.value.error == "invalid_grant"
        assert refused.value.description == f"psc-idp scenario {scenario}"

        assert _cli(live_server, "scenarios", "remove", "--client", CLIENT_ID).returncode == 0
        expired = _cli(live_server, *add, "--endpoint", "token", "--expired-token")
        assert expired.returncode == 0, expired.stderr
        rp, token, nonce = _code_flow(live_server, metadata)
        keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
        decoded = jwt.decode(token["id_token"], keys)  # the signature is right…
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"essential": True, "value": metadata["issuer"]}},
            {"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
        )
        with pytest.raises(Exception) as refused_id_token:  # …and the RP's rules refuse it
            claims.validate()
        # Authlib's own error or joserfc's, whichever its version validates with.
        assert getattr(refused_id_token.value, "error", None) == "expired_token"
        # The server's own check of the expired access token: UserInfo refuses it.
        assert rp.get(metadata["userinfo_endpoint"], timeout=TIMEOUT).status_code == 401
    finally:
        _cli(live_server, "scenarios", "remove", "--client", CLIENT_ID)
