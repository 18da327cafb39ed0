"""openid-client (Node, v6) against a real server with what PSC's discovery advertises beyond the
basics: ``client_secret_jwt`` on every call the relying party makes (code, refresh,
introspection, revocation), as ``rp-flow.mjs`` runs it with ``PSC_CLIENT_AUTH``; the ``claims``
parameter of its first login (``PSC_CLAIMS``): an ID token claim beyond the scopes and an
essential ``acr``; a pairwise ``sub``, which openid-client requires to be the same at UserInfo
as in the ID token.

The client is registered on the running server with ``psc-idp clients add`` (its secret
generated and printed once), as an operator does. Needs ``node`` and ``npm ci`` in
tests/e2e/node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENT_ID = "e2e-secret-jwt"
PUBLIC_SUB = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700218896"
EMAIL = "robert.specialiste0021889@example.org"  # the demo realm's doctor
CLAIMS = {
    "id_token": {"email": None, "acr": {"essential": True, "values": ["eidas1", "eidas3"]}},
    "userinfo": {"phone_number": None},
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (openid-client relying party)")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"openid-client is not installed: run `npm ci` in {NODE_DIR}")
    return node


def run_flow(server: LiveServer, client_id: str, secret: str, **env: str) -> dict[str, Any]:
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", server.issuer, client_id, secret],
        cwd=NODE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = {"ok": False, "steps": []}
    if completed.returncode != 0 or not report.get("ok"):
        pytest.fail(
            f"openid-client failed: {completed.stderr}\n--- server ---\n{server.output()[-4000:]}",
            pytrace=False,
        )
    return report


@pytest.fixture(scope="module")
def registered(live_server: LiveServer) -> str:
    created = run_cli(
        live_server,
        "clients",
        "add",
        CLIENT_ID,
        "--auth-method",
        "client_secret_jwt",
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "http://localhost:3000/",
        "--subject-type",
        "pairwise",
    )
    return created["client_secret"]


@pytest.fixture(scope="module")
def secret_jwt_flow(live_server: LiveServer, registered: str) -> dict[str, Any]:
    return run_flow(
        live_server,
        CLIENT_ID,
        registered,
        PSC_CLIENT_AUTH="client_secret_jwt",
        PSC_CLAIMS=json.dumps(CLAIMS),
    )


def test_discovery_advertises_client_secret_jwt(secret_jwt_flow):
    discovery = secret_jwt_flow["discovery"]
    assert "client_secret_jwt" in discovery["token_endpoint_auth_methods_supported"]
    assert {"HS256", "HS384", "HS512"} <= set(
        discovery["token_endpoint_auth_signing_alg_values_supported"]
    )


def test_every_call_authenticates_with_a_secret_signed_assertion(secret_jwt_flow):
    assert secret_jwt_flow["client_auth"] == "client_secret_jwt"
    assert [step["step"] for step in secret_jwt_flow["steps"] if not step["ok"]] == []
    assert secret_jwt_flow["tokens"]["has_refresh_token"] is True
    assert secret_jwt_flow["refresh"]["rotated"] is True
    introspection = secret_jwt_flow["introspection"]
    assert introspection["active"] is True and introspection["client_id"] == CLIENT_ID
    assert secret_jwt_flow["revocation"]["next_refresh"]["error"] == "invalid_grant"
    assert secret_jwt_flow["id_token"]["azp"] == CLIENT_ID


def test_the_claims_parameter_is_honoured(secret_jwt_flow):
    assert secret_jwt_flow["discovery"]["claims_parameter_supported"] is True
    id_token = secret_jwt_flow["id_token"]
    assert id_token["email"] == EMAIL
    assert id_token["acr"] == "eidas1"  # MOBILE, one of the essential values
    assert secret_jwt_flow["userinfo"]["phone_number"] == "06 00 00 00 01"
    assert "phone_number" not in id_token


def test_the_pairwise_sub_is_the_same_everywhere(secret_jwt_flow):
    assert secret_jwt_flow["discovery"]["subject_types_supported"] == ["public", "pairwise"]
    sub = secret_jwt_flow["id_token"]["sub"]
    assert sub != PUBLIC_SUB and "899700218896" not in sub
    assert secret_jwt_flow["userinfo"]["sub"] == sub  # openid-client checked it too
    assert secret_jwt_flow["introspection"]["sub"] == sub
    assert secret_jwt_flow["sso_login"]["sub"] == sub
    assert secret_jwt_flow["refresh"]["id_token_sub"] == sub


def test_a_wrong_secret_fails_at_the_token_endpoint(live_server: LiveServer, registered: str):
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", live_server.issuer, CLIENT_ID, registered[::-1]],
        cwd=NODE_DIR,
        env={**os.environ, "PSC_CLIENT_AUTH": "client_secret_jwt"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1 and report["ok"] is False
    assert report["failure"]["step"] == "authorization_code_grant"
    # A 401 with its WWW-Authenticate challenge, which openid-client reports as such.
    failure = report["failure"]
    assert failure["status"] == 401
    assert [c["parameters"]["error"] for c in failure["cause"]] == ["invalid_client"]
