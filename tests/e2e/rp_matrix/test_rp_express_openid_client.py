"""openid-client (v6) in an express application, at its defaults: discovery, PKCE, state,
``client_secret_post`` (its default for a client with a secret), scope ``openid email``. The
flag an http issuer needs in development is ``execute: [allowInsecureRequests]``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.rp_matrix.conftest import (
    MEANS,
    RelyingParty,
    check_server_side_journey,
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
    check_server_side_journey(professional, rp, means)
