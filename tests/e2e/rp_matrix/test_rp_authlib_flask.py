"""Authlib's Flask client (``authlib.integrations.flask_client``) at its defaults: discovery,
``client_secret_basic``, scope ``openid email profile``, refresh through ``update_token``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.rp_matrix.authlib_rp import create_rp
from tests.e2e.rp_matrix.conftest import (
    MEANS,
    RelyingParty,
    check_server_side_journey,
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
    first = check_server_side_journey(professional, rp, means)
    assert first["userinfo"]["family_name"]  # scope profile
