"""The answering effects (error, status, delay) at every endpoint, for the client and for
another one: the same scenario table, the same answers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsPush
from tests.devtools.scenarios.conftest import CALLBACK, CLIENT_ID, add_scenario
from tests.helpers import AUTHORIZE, INTROSPECT, TOKEN, USERINFO, basic, pkce_pair, query_of
from tests.means.ecps.helpers import activate_by_contact

CIBA_AUTH = "/auth/realms/esante-wallet/protocol/openid-connect/ext/ciba/auth"
NURSE = "899700100490"
ENDPOINTS = ("authorize", "token", "userinfo", "introspect", "ciba")
#: An error each endpoint may answer, and its status.
ERRORS = {
    "authorize": ("login_required", 302),
    "token": ("unauthorized_client", 400),
    "userinfo": ("invalid_token", 401),
    "introspect": ("invalid_request", 400),
    "ciba": ("expired_login_hint_token", 400),
}


@pytest.fixture(autouse=True)
def no_pending_pushes(app):
    yield
    with app.app_context():
        db.session.execute(
            update(EcpsPush).where(EcpsPush.status == "pending").values(status="cancelled")
        )
        db.session.commit()


def _service_token(app, rp) -> str:
    response = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers=basic(CLIENT_ID, rp.secret),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def _call(app, rp, endpoint: str, token: str):
    http = app.test_client()
    auth = basic(CLIENT_ID, rp.secret)
    if endpoint == "authorize":
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "state": "st",
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        }
        return http.get(AUTHORIZE, query_string=query)
    if endpoint == "token":
        return http.post(TOKEN, data={"grant_type": "client_credentials"}, headers=auth)
    if endpoint == "userinfo":
        return http.get(USERINFO, headers={"Authorization": f"Bearer {token}"})
    if endpoint == "introspect":
        return http.post(INTROSPECT, data={"token": token}, headers=auth)
    return http.post(
        CIBA_AUTH,
        data={"scope": "openid", "login_hint": NURSE, "binding_message": "1"},
        headers=auth,
    )


def _normal(endpoint: str, response) -> bool:
    if endpoint == "authorize":
        return response.status_code == 302 and "/wallet/login/" in response.headers["Location"]
    return response.status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_error_status_and_delay(app, rp, endpoint):
    if endpoint == "ciba":
        activate_by_contact(app, NURSE)
    token = _service_token(app, rp)
    assert _normal(endpoint, _call(app, rp, endpoint, token))

    code, status = ERRORS[endpoint]
    scenario = add_scenario(app, endpoint, "error", code)
    response = _call(app, rp, endpoint, token)
    assert response.status_code == status
    assert response.headers["X-PSC-Scenario"] == scenario
    if endpoint == "authorize":
        assert query_of(response.headers["Location"])["error"] == code
    else:
        assert response.get_json()["error"] == code
    _clear(app)

    add_scenario(app, endpoint, "status", "429")
    response = _call(app, rp, endpoint, token)
    assert response.status_code == 429 and response.get_json()["error"] == "invalid_request"
    _clear(app)

    add_scenario(app, endpoint, "delay", "0.3")
    started = time.monotonic()
    response = _call(app, rp, endpoint, token)
    assert time.monotonic() - started >= 0.3
    assert _normal(endpoint, response) and "X-PSC-Scenario" in response.headers


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_clients_scenario_changes_nothing(app, rp, endpoint):
    from psc_idp.devtools.scenarios import store
    from psc_idp.devtools.scenarios.rules import check
    from tests.helpers import register_client

    register_client(app, "scenario-other")
    with app.app_context():
        store.add(check("scenario-other", None, endpoint, "status", "500"))
        db.session.commit()
    try:
        if endpoint == "ciba":
            activate_by_contact(app, NURSE)
        response = _call(app, rp, endpoint, _service_token(app, rp))
        assert _normal(endpoint, response) and "X-PSC-Scenario" not in response.headers
    finally:
        with app.app_context():
            store.remove("scenario-other")
            db.session.commit()


def _clear(app) -> None:
    from psc_idp.devtools.scenarios import store

    with app.app_context():
        store.remove(CLIENT_ID)
        db.session.commit()


def test_a_service_account_s_userinfo_changes_too(app, rp):
    token = _service_token(app, rp)
    add_scenario(app, "userinfo", "rename_claim", "preferred_username=username")
    info = _call(app, rp, "userinfo", token).get_json()
    assert info["username"] == f"service-account-{CLIENT_ID}" and "preferred_username" not in info
