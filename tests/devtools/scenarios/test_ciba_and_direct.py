"""Scenarios at the CIBA endpoint and on its polls (denied, expired), and on the requests the
workers would answer before Flask (``protocol/direct.py``): with scenarios on, Flask answers
them, so the scenarios apply; off, the shortcut stays."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from werkzeug.test import Client as WsgiClient

from psc_idp.extensions import db
from psc_idp.http.prepared import direct_routes, wrap
from psc_idp.means.ecps.models import EcpsPush
from tests.devtools.scenarios.conftest import CIBA_GRANT, CLIENT_ID, add_scenario
from tests.helpers import INTROSPECT, TOKEN, USERINFO, basic
from tests.means.ecps.helpers import activate_by_contact

CIBA_AUTH = "/auth/realms/esante-wallet/protocol/openid-connect/ext/ciba/auth"
NURSE = "899700100490"
DENTIST = "899700100235"


@pytest.fixture(autouse=True)
def no_pending_pushes(app):
    yield
    with app.app_context():
        db.session.execute(
            update(EcpsPush).where(EcpsPush.status == "pending").values(status="cancelled")
        )
        db.session.commit()


def _ask(app, rp, national_id: str):
    return app.test_client().post(
        CIBA_AUTH,
        data={"scope": "openid", "login_hint": national_id, "binding_message": "42"},
        headers=basic(CLIENT_ID, rp.secret),
    )


def _poll(app, rp, auth_req_id: str):
    return app.test_client().post(
        TOKEN,
        data={"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id},
        headers=basic(CLIENT_ID, rp.secret),
    )


def test_ciba_endpoint_error_for_one_professional(app, rp):
    activate_by_contact(app, NURSE)
    activate_by_contact(app, DENTIST)
    scenario = add_scenario(app, "ciba", "error", "unknown_user_id", NURSE)
    refused = _ask(app, rp, NURSE)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unknown_user_id"
    assert refused.headers["X-PSC-Scenario"] == scenario
    asked = _ask(app, rp, DENTIST)
    assert asked.status_code == 200 and asked.get_json()["auth_req_id"]


def test_ciba_access_denied_is_403(app, rp):
    activate_by_contact(app, NURSE)
    add_scenario(app, "ciba", "error", "access_denied")
    assert _ask(app, rp, NURSE).status_code == 403


@pytest.mark.parametrize(
    ("outcome", "error"), [("denied", "access_denied"), ("expired", "expired_token")]
)
def test_ciba_request_denied_or_expired_at_the_poll(app, rp, outcome, error):
    activate_by_contact(app, NURSE)
    asked = _ask(app, rp, NURSE)
    assert asked.status_code == 200, asked.get_json()
    auth_req_id = asked.get_json()["auth_req_id"]
    assert _poll(app, rp, auth_req_id).get_json()["error"] == "authorization_pending"
    scenario = add_scenario(app, "ciba", "ciba_outcome", outcome, NURSE)
    polled = _poll(app, rp, auth_req_id)
    assert polled.status_code == 400
    assert polled.get_json()["error"] == error
    assert polled.headers["X-PSC-Scenario"] == scenario


def test_ciba_outcome_for_another_professional(app, rp):
    activate_by_contact(app, DENTIST)
    add_scenario(app, "ciba", "ciba_outcome", "denied", NURSE)
    auth_req_id = _ask(app, rp, DENTIST).get_json()["auth_req_id"]
    assert _poll(app, rp, auth_req_id).get_json()["error"] == "authorization_pending"


# --- the workers' shortcut ----------------------------------------------------------------
def test_with_scenarios_on_the_shortcut_leaves_everything_to_flask(app, rp):
    assert direct_routes(app) == {}
    scenario = add_scenario(app, "introspect", "status", "503")
    token = app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=basic(CLIENT_ID, rp.secret)
    )
    access_token = token.get_json()["access_token"]
    workers = WsgiClient(wrap(app))
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    response = workers.post(
        INTROSPECT,
        data={"token": access_token},
        headers=basic(CLIENT_ID, rp.secret),
        environ_base=environ,
    )
    assert response.status_code == 503 and response.headers["X-PSC-Scenario"] == scenario
    add_scenario(app, "userinfo", "error", "invalid_token")
    response = workers.get(
        USERINFO, headers={"Authorization": f"Bearer {access_token}"}, environ_base=environ
    )
    assert response.status_code == 401 and "X-PSC-Scenario" in response.headers


def test_with_scenarios_off_the_shortcut_is_there(make_app):
    off = make_app(scenarios=False)
    assert {endpoint for _, endpoint in direct_routes(off)} == {
        "/auth/realms/esante-wallet/protocol/openid-connect/userinfo",
        "/auth/realms/esante-wallet/protocol/openid-connect/token/introspect",
        "/auth/realms/esante-wallet/protocol/openid-connect/token",
    }
