"""``psc-idp token issue``: a login's tokens without a browser, usable as any (UserInfo,
introspection, refresh), audited; development mode only."""

from __future__ import annotations

import json

from sqlalchemy import select

from psc_idp.audit import AuditEvent
from psc_idp.audit.events import TOKEN_ISSUED
from psc_idp.extensions import db
from tests.devtools.scenarios.conftest import CLIENT_ID, add_scenario
from tests.helpers import INTROSPECT, TOKEN, USERINFO, basic, decode, register_client

DOCTOR = "899700218896"
SUB = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:" + DOCTOR


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _issue(app, *extra: str):
    result = invoke(app, "token", "issue", DOCTOR, "--client", CLIENT_ID, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_minted_tokens_work_as_a_login_s(app, rp):
    token = _issue(app, "--auth-mode", "FIDO", "--scope", "openid scope_all")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 120
    id_claims, access_claims = decode(token["id_token"]), decode(token["access_token"])
    assert (id_claims["sub"], id_claims["aud"], id_claims["azp"]) == (SUB, CLIENT_ID, CLIENT_ID)
    assert (id_claims["authMode"], id_claims["acr"]) == ("FIDO", "eidas2")
    assert id_claims["SubjectNameID"] == DOCTOR and id_claims["sid"] == token["session_state"]
    assert access_claims["scope"].split()[:2] == ["openid", "scope_all"]

    http = app.test_client()
    info = http.get(USERINFO, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200 and info.get_json()["sub"] == SUB
    assert info.get_json()["authMode"] == "FIDO"
    introspected = http.post(
        INTROSPECT, data={"token": token["access_token"]}, headers=basic(CLIENT_ID, rp.secret)
    ).get_json()
    assert introspected["active"] is True and introspected["client_id"] == CLIENT_ID
    refreshed = http.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        headers=basic(CLIENT_ID, rp.secret),
    )
    assert refreshed.status_code == 200, refreshed.get_json()
    assert decode(refreshed.get_json()["id_token"])["authMode"] == "FIDO"

    with app.app_context():
        row = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == TOKEN_ISSUED, AuditEvent.client_id == CLIENT_ID)
            .order_by(AuditEvent.created_at.desc())
        ).first()
    assert row is not None and row.detail["grant_type"] == "token_issue"


def test_minted_tokens_meet_the_token_scenarios(app, rp):
    add_scenario(app, "token", "drop_claim", "SubjectNameID")
    assert "SubjectNameID" not in decode(_issue(app)["id_token"])


def test_no_refresh_token_without_the_grant(app):
    register_client(app, "scenario-no-refresh", grant_types=["authorization_code"])
    result = invoke(app, "token", "issue", DOCTOR, "--client", "scenario-no-refresh", "--json")
    token = json.loads(result.output)
    assert "refresh_token" not in token and token["access_token"]


def test_refusals(app, rp):
    cases = [
        (["token", "issue", DOCTOR, "--client", "nobody"], "client inconnu"),
        (["token", "issue", "899700000000", "--client", CLIENT_ID], ""),
        (["token", "issue", DOCTOR, "--client", CLIENT_ID, "--scope", "nope"], "--scope"),
        (["token", "issue", DOCTOR, "--client", CLIENT_ID, "--auth-mode", "PIGEON"], "PIGEON"),
    ]
    for args, message in cases:
        result = invoke(app, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output


def test_refused_outside_development_mode(make_app, rp):
    production = make_app(dev_mode=False)
    result = invoke(production, "token", "issue", DOCTOR, "--client", CLIENT_ID)
    assert result.exit_code == 2
    assert "n'existe qu'en mode développement" in result.output
