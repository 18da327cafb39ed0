"""Django with mozilla-django-oidc, at its defaults: scope ``openid email``, the secret in the
token request's body (``client_secret_post``), users found by e-mail, no discovery (every
endpoint in the settings, with the JWKS endpoint for ``OIDC_RP_SIGN_ALGO = "RS256"``), the
session renewed silently with ``prompt=none`` (``SessionRefresh``) once the ID token expired."""

from __future__ import annotations

import sys
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

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def rp(live_server, registrations, tmp_path_factory) -> Iterator[RelyingParty]:
    pytest.importorskip("mozilla_django_oidc")
    me = registrations["django"]
    env = {
        "RP_ISSUER": live_server.issuer,
        "RP_AUTHORIZATION_ENDPOINT": live_server.url("/wallet/auth"),
        "RP_CLIENT_ID": me.client_id,
        "RP_CLIENT_SECRET": me.secret,
        "RP_DB": str(tmp_path_factory.mktemp("django-rp") / "rp.sqlite3"),
    }
    command = [sys.executable, "-m", "tests.e2e.django_rp.serve", str(me.port)]
    running = spawn(command, env, ROOT, "listening on")
    output = next(running)
    yield RelyingParty(me.base_url, output)
    running.close()


@pytest.mark.parametrize("means", MEANS)
def test_login_userinfo_two_silent_renewals_and_logout(rp, professional, means):
    national_id = PICKED if means == "picker" else ECPS_AUTO_APPROVED
    landed = professional.login(rp.url("/login"), means)
    assert landed.status_code == 200, (professional.visited, rp.output()[-3000:])
    first = landed.json()
    check_userinfo(first["userinfo"], national_id)
    assert first["email"] and first["email"] == first["userinfo"]["email"]

    seen = [first["access_token"]]
    for _ in range(2):
        assert professional.get(rp.url("/expire")).status_code == 200
        url, renewed = professional.follow(rp.url("/me"))
        assert any("prompt=none" in visited for visited in professional.visited)
        assert url == rp.url("/me") and renewed.status_code == 200, (url, rp.output()[-3000:])
        assert renewed.json()["username"] == first["username"]  # the same Django user
        seen.append(renewed.json()["access_token"])
    assert len(set(seen)) == 3  # new tokens at each renewal

    check_logout(professional, rp)
