"""A relying party built with openid-client (Node, v6) against a real psc-idp server.

openid-client is strict: it checks state, nonce, PKCE, the ``iss`` authorization response
parameter (RFC 9207), the ID token (signature against the JWKS, ``iss``, ``aud``, ``exp``), the
userinfo ``sub``… A deviation from the specifications makes ``rp-flow.mjs`` fail. The scenario
needs ``node`` and ``npm ci`` in tests/e2e/node (``make test`` does it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"
SUB = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700218896"
NATIONAL_ID = "899700218896"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (openid-client relying party)")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"openid-client is not installed: run `npm ci` in {NODE_DIR}")
    return node


@pytest.fixture(scope="module")
def flow(live_server: LiveServer) -> dict[str, Any]:
    """What the relying party observed during the whole scenario (see rp-flow.mjs).

    A failed run still yields what was observed before the failure; the details (the
    relying party's diagnosis and the server's output) are reported by
    ``test_every_step_succeeded``, the other tests only say where the scenario stopped."""
    node = _node()
    completed = subprocess.run(
        [node, "rp-flow.mjs", live_server.issuer, "demo-web", live_server.demo_secret("demo-web")],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = {"ok": False, "steps": [], "failure": {"message": "no JSON report on stdout"}}
    if completed.returncode != 0:
        report["ok"] = False
        report.setdefault("failure", {"message": f"exit status {completed.returncode}"})
        report["diagnosis"] = (
            f"--- relying party stderr ---\n{completed.stderr}\n"
            f"--- relying party stdout ---\n{completed.stdout[-4000:]}\n"
            f"--- server output (end) ---\n{live_server.output()[-6000:]}"
        )
    return report


def observed(flow: dict[str, Any], key: str) -> Any:
    """``flow[key]``, or a short failure naming the step where the scenario stopped."""
    if key not in flow:
        failure = flow.get("failure", {})
        pytest.fail(
            f"the relying party stopped before {key!r}, at step {failure.get('step')!r}: "
            f"{failure.get('message')} (details in test_every_step_succeeded)",
            pytrace=False,
        )
    return flow[key]


def test_every_step_succeeded(flow: dict[str, Any]) -> None:
    if not flow["ok"]:
        failure = flow.get("failure", {})
        pytest.fail(
            f"openid-client relying party failed at step {failure.get('step')!r}: "
            f"{failure.get('message')}\n{flow.get('diagnosis', '')}",
            pytrace=False,
        )
    assert [s["step"] for s in flow["steps"] if not s["ok"]] == []


def test_discovery_and_authorization_response(flow: dict[str, Any], live_server: LiveServer):
    discovery = observed(flow, "discovery")
    assert discovery["issuer"] == live_server.issuer
    assert discovery["authorization_endpoint"] == live_server.url("/wallet/auth")
    assert discovery["authorization_response_iss_parameter_supported"] is True
    login = observed(flow, "login")
    assert login["picker_shown"] is True
    assert login["callback_parameters"] == ["code", "iss", "session_state", "state"]


def test_id_token_claims(flow: dict[str, Any], live_server: LiveServer) -> None:
    claims = observed(flow, "id_token")
    assert claims["iss"] == live_server.issuer
    assert claims["aud"] == "demo-web"
    assert claims["azp"] == "demo-web"
    assert claims["typ"] == "ID"
    assert claims["sub"] == SUB
    assert claims["SubjectNameID"] == NATIONAL_ID
    assert claims["preferred_username"] == NATIONAL_ID
    assert claims["authMode"] == "MOBILE"
    assert claims["acr"] == "eidas1"
    assert claims["sid"] == claims["session_state"]
    assert claims["exp"] - claims["iat"] == 120
    tokens = observed(flow, "tokens")
    assert tokens["expires_in"] == 120
    assert tokens["scope"] == "openid scope_all identity"
    assert tokens["has_refresh_token"] is True


def test_userinfo_sectoral_claims(flow: dict[str, Any]) -> None:
    userinfo = observed(flow, "userinfo")
    assert userinfo["sub"] == SUB
    assert userinfo["SubjectNameID"] == NATIONAL_ID
    assert userinfo["authMode"] == "MOBILE"
    exercices = userinfo["SubjectRefPro"]["exercices"]
    assert exercices and exercices[0]["codeProfession"]
    assert exercices[0]["activities"]
    assert {"identifiant": NATIONAL_ID, "origine": "RPPS", "qualite": 1} in userinfo["otherIds"]
    assert None not in userinfo.values()


def test_refresh_rotates_and_introspection_describes_the_token(flow: dict[str, Any]) -> None:
    refresh = observed(flow, "refresh")
    assert refresh["ok"] is True
    assert refresh["rotated"] is True
    assert refresh["new_access_token"] is True
    introspection = observed(flow, "introspection")
    assert introspection["active"] is True
    assert introspection["client_id"] == "demo-web"
    assert introspection["sub"] == SUB
    assert introspection["username"] == NATIONAL_ID
    assert introspection["SubjectNameID"] == NATIONAL_ID
    assert introspection["scope"] == "openid scope_all identity"


def test_revoked_refresh_token_is_refused(flow: dict[str, Any]) -> None:
    revocation = observed(flow, "revocation")
    assert revocation["ok"] is True
    assert revocation["next_refresh"] == {"refused": True, "error": "invalid_grant", "status": 400}


def test_second_login_uses_the_sso_session(flow: dict[str, Any]) -> None:
    sso = observed(flow, "sso_login")
    assert sso["picker_shown"] is False
    assert sso["sub"] == SUB
    assert sso["same_sid"] is True
    assert sso["same_auth_time"] is True
    assert (sso["authMode"], sso["acr"]) == ("MOBILE", "eidas1")


def test_logout_redirects_and_ends_the_session(flow: dict[str, Any]) -> None:
    logout = observed(flow, "logout")
    assert logout["redirected_to"] == "http://localhost:3000/"
    assert logout["state_returned"] is True
    assert logout["session_cookie_left"] is False
    assert logout["refresh_after_logout"]["error"] == "invalid_grant"
    assert logout["introspection_after_logout"] == {"active": False}
    assert logout["picker_after_logout"] is True
