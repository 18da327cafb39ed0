"""Authlib's Flask client (``authlib.integrations.flask_client``) at its defaults: discovery,
``client_secret_basic``, scope ``openid email profile``, refresh through ``update_token``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.rp_matrix.authlib_rp import create_rp
from tests.e2e.rp_matrix.conftest import (
    ECPS_AUTO_APPROVED,
    MEANS,
    PICKED,
    RelyingParty,
    check_logout,
    check_userinfo,
    serve_in_thread,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rp(live_server, registrations) -> Iterator[RelyingParty]:
    me = registrations["authlib"]
    app = create_rp(live_server.issuer, me.client_id, me.secret, me.base_url)
    serving = serve_in_thread(app, me.port)
    next(serving)
    yield RelyingParty(me.base_url)
    serving.close()


@pytest.mark.parametrize("means", MEANS)
def test_login_userinfo_two_refreshes_and_logout(rp, professional, means):
    national_id = PICKED if means == "picker" else ECPS_AUTO_APPROVED
    landed = professional.login(rp.url("/login"), means)
    assert landed.status_code == 200, landed.text
    first = landed.json()
    check_userinfo(first["userinfo"], national_id)
    assert first["id_token_claims"]["SubjectNameID"] == national_id
    assert first["userinfo"]["email"]  # scope email
    assert first["userinfo"]["family_name"]  # scope profile

    seen = [first["refresh_token"]]
    for _ in range(2):
        refreshed = professional.get(rp.url("/refresh"))
        assert refreshed.status_code == 200, refreshed.text
        check_userinfo(refreshed.json()["userinfo"], national_id)
        seen.append(refreshed.json()["refresh_token"])
    assert len(set(seen)) == 3  # rotated each time, and the rotated one was kept

    check_logout(professional, rp)
