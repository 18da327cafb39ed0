"""The means interface, proven by a means that is not one of ours: registered in a few lines,
it logs a professional in through the browser flow (authorize → la mire → its page → code →
token → UserInfo) and through CIBA, on a channel of its own."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

import pytest
from flask import url_for
from markupsafe import escape

from psc_idp.extensions import db
from psc_idp.means.base import Authenticator, AuthResult, LoginOutcome
from psc_idp.means.registry import register
from psc_idp.protocol.clients import upsert_client
from psc_idp.timeutil import epoch
from tests.helpers import (
    DOCTOR,
    TOKEN,
    USERINFO,
    TestClients,
    basic,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
)

CIBA_AUTH = "/auth/realms/esante-wallet/protocol/openid-connect/ext/ciba/auth"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
NURSE = "899700100490"


class NodMeans(Authenticator):
    """A nod to a totem: answers whoever is named, at eidas1, on the ``TOTEM`` channel."""

    id = "nod"
    label = "Signe de tête"
    description = "Faites un signe de tête au totem."
    auth_modes = ("NOD",)
    channels = ("TOTEM",)
    #: CIBA logins the test decides: login id → approve?
    decisions: dict[str, bool] = {}

    def acrs(self) -> set[str]:
        return {"eidas1"}

    def headless_acr(self) -> str:
        return "eidas1"

    def start(self, tx, error=""):
        action = url_for("wallet.means", tx_id=tx.id, means_id=self.id)
        return (
            f'<form method="post" action="{action}"><input name="csrf_token" '
            f'value="{escape(tx.csrf_token)}"><input name="national_id"></form>'
        )

    def finish(self, tx, form: Mapping[str, str]) -> AuthResult:
        return AuthResult.success(LoginOutcome(form["national_id"], "NOD", "eidas1", epoch()))

    def headless_result(self, tx) -> AuthResult:
        if tx.id not in self.decisions:
            return AuthResult.pending()
        if self.decisions[tx.id]:
            return AuthResult.success(LoginOutcome(tx.login_hint, "NOD", "eidas1", epoch()))
        return AuthResult.failure("refused")


@pytest.fixture(scope="module")
def nod_app(make_app):
    app = make_app()
    register(app, NodMeans())
    return app


def test_browser_login_with_a_means_of_elsewhere(nod_app):
    client = TestClients.ensure(nod_app).web
    http = nod_app.test_client()
    verifier, challenge = pkce_pair()
    asked = http.get(
        "/wallet/auth",
        query_string={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid scope_all",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    mire = asked.headers["Location"]
    assert "Signe de tête" in http.get(mire).get_data(as_text=True)
    page = http.get(f"{mire}/nod").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = http.post(f"{mire}/nod", data={"csrf_token": csrf, "national_id": DOCTOR})
    assert done.status_code == 302
    callback = query_of(http.get(done.headers["Location"]).headers["Location"])
    tokens = exchange_code(nod_app, client, callback["code"], verifier).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["authMode"], claims["acr"]) == ("NOD", "eidas1")
    info = http.get(USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and info.get_json()["authMode"] == "NOD"


@pytest.fixture(scope="module")
def dpi(nod_app) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    with nod_app.app_context():
        upsert_client(
            {
                "client_id": "dpi-contract",
                "name": "DPI du contrat",
                "secret": secret,
                "grant_types": [CIBA_GRANT],
            }
        )
        db.session.commit()
    return "dpi-contract", secret


def _ask(app, dpi, **params):
    data = {"scope": "openid scope_all", "login_hint": NURSE, "channel": "TOTEM", **params}
    return app.test_client().post(CIBA_AUTH, data=data, headers=basic(*dpi))


def _poll(app, dpi, auth_req_id):
    from datetime import timedelta

    from psc_idp.protocol.ciba.models import CibaRequest

    with app.app_context():  # no waiting in tests: the interval has passed
        for row in db.session.query(CibaRequest).filter(CibaRequest.client_id == dpi[0]):
            row.last_poll_at = row.last_poll_at and row.last_poll_at - timedelta(seconds=60)
        db.session.commit()
    data = {"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id}
    return app.test_client().post(TOKEN, data=data, headers=basic(*dpi))


def _login_id(app, dpi) -> str:
    from psc_idp.protocol.ciba.models import CibaRequest

    with app.app_context():
        query = db.session.query(CibaRequest).filter(CibaRequest.client_id == dpi[0])
        return query.order_by(CibaRequest.created_at.desc()).first().id


def test_ciba_login_on_a_channel_of_elsewhere(nod_app, dpi):
    asked = _ask(nod_app, dpi)
    assert asked.status_code == 200, asked.get_json()
    auth_req_id = asked.get_json()["auth_req_id"]
    assert _poll(nod_app, dpi, auth_req_id).get_json()["error"] == "authorization_pending"
    NodMeans.decisions[_login_id(nod_app, dpi)] = True
    tokens = _poll(nod_app, dpi, auth_req_id)
    assert tokens.status_code == 200, tokens.get_json()
    claims = decode(tokens.get_json()["id_token"])
    # Who, how and at which level come from the login the means reported.
    assert (claims["authMode"], claims["acr"]) == ("NOD", "eidas1")
    assert claims["sub"].endswith(NURSE) and claims["session_state"]


def test_ciba_refusal_and_level_on_a_channel_of_elsewhere(nod_app, dpi):
    auth_req_id = _ask(nod_app, dpi).get_json()["auth_req_id"]
    NodMeans.decisions[_login_id(nod_app, dpi)] = False
    assert _poll(nod_app, dpi, auth_req_id).get_json()["error"] == "access_denied"
    too_high = _ask(nod_app, dpi, acr_values="eidas3")
    assert too_high.status_code == 400
    assert "channel TOTEM cannot reach" in too_high.get_json()["error_description"]
    unknown = _ask(nod_app, dpi, channel="SMOKE")
    assert "TOTEM" in unknown.get_json()["error_description"]
