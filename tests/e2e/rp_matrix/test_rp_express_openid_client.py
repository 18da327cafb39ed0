"""openid-client (v6) in an express application, at its defaults: discovery, PKCE, state,
``client_secret_post`` (its default for a client with a secret), scope ``openid email``. The
flag an http issuer needs in development is ``execute: [allowInsecureRequests]``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.rp_matrix.conftest import (
    ECPS_AUTO_APPROVED,
    MEANS,
    PICKED,
    RelyingParty,
    check_logout,
    check_userinfo,
    spawn,
)

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def rp(live_server, registrations) -> Iterator[RelyingParty]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "express").is_dir():
        pytest.skip(f"node or express missing: run `npm ci` in {NODE_DIR}")
    me = registrations["express"]
    env = {
        "PSC_ISSUER": live_server.issuer,
        "RP_CLIENT_ID": me.client_id,
        "RP_CLIENT_SECRET": me.secret,
        "RP_PORT": str(me.port),
    }
    running = spawn([node, "express-rp.mjs"], env, NODE_DIR, "listening on")
    output = next(running)
    yield RelyingParty(me.base_url, output)
    running.close()


@pytest.mark.parametrize("means", MEANS)
def test_login_userinfo_two_refreshes_and_logout(rp, professional, means):
    national_id = PICKED if means == "picker" else ECPS_AUTO_APPROVED
    landed = professional.login(rp.url("/login"), means)
    assert landed.status_code == 200, landed.text
    first = landed.json()
    check_userinfo(first["userinfo"], national_id)
    assert first["id_token_claims"]["SubjectNameID"] == national_id
    assert first["userinfo"]["email"]  # scope email

    seen = [first["refresh_token"]]
    for _ in range(2):
        refreshed = professional.get(rp.url("/refresh"))
        assert refreshed.status_code == 200, refreshed.text
        check_userinfo(refreshed.json()["userinfo"], national_id)
        seen.append(refreshed.json()["refresh_token"])
    assert len(set(seen)) == 3

    check_logout(professional, rp)
