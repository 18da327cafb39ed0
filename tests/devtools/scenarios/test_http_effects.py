"""Each effect at each endpoint, through HTTP: what the relying party gets, the
``X-PSC-Scenario`` mark, the audit row; nothing for another professional or client."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from sqlalchemy import select

from psc_idp.audit import AuditEvent
from psc_idp.audit.events import SCENARIO_APPLIED
from psc_idp.extensions import db
from tests.devtools.scenarios.conftest import CALLBACK, CLIENT_ID, add_scenario
from tests.helpers import (
    AUTHORIZE,
    CERTS,
    INTROSPECT,
    TOKEN,
    USERINFO,
    Browser,
    basic,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
)

DOCTOR = "899700218896"
OTHER = "899700366240"


def _login(browser, rp, national_id: str = DOCTOR, **params: str) -> dict[str, str]:
    verifier, challenge = pkce_pair()
    callback = browser.login(
        CLIENT_ID,
        national_id=national_id,
        redirect_uri=CALLBACK,
        code_challenge=challenge,
        code_challenge_method="S256",
        **params,
    )
    callback["verifier"] = verifier
    return callback


def _tokens(app, browser, rp, national_id: str = DOCTOR) -> dict:
    callback = _login(Browser(app), rp, national_id)  # a fresh browser: no SSO session
    response = exchange_code(app, rp, callback["code"], callback["verifier"], redirect_uri=CALLBACK)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _userinfo(app, access_token: str):
    return app.test_client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})


def _audited(app, scenario_id: str) -> int:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == SCENARIO_APPLIED)
        ).all()
        return sum(1 for row in rows if row.detail.get("scenario") == scenario_id)


# --- authorize -----------------------------------------------------------------------------
def test_authorize_error_goes_to_the_registered_redirect_uri(app, browser, rp):
    scenario = add_scenario(app, "authorize", "error", "access_denied")
    response = browser.authorize(CLIENT_ID, redirect_uri=CALLBACK, state="s-1")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = query_of(location)
    assert (query["error"], query["state"]) == ("access_denied", "s-1")
    assert query["iss"].endswith("/auth/realms/esante-wallet")
    assert response.headers["X-PSC-Scenario"] == scenario
    assert _audited(app, scenario) == 1


def test_authorize_error_never_goes_to_an_unregistered_uri(app, browser, rp):
    add_scenario(app, "authorize", "error", "access_denied")
    response = browser.authorize(CLIENT_ID, redirect_uri="https://evil.example/cb")
    # The endpoint's own answer: its French page, no redirect, no scenario applied.
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "X-PSC-Scenario" not in response.headers


def test_authorize_error_for_one_professional_comes_after_the_login(app, browser, rp):
    scenario = add_scenario(app, "authorize", "error", "temporarily_unavailable", DOCTOR)
    callback = _login(browser, rp, DOCTOR, state="s-2")
    assert callback["error"] == "temporarily_unavailable" and callback["state"] == "s-2"
    assert "code" not in callback
    assert _audited(app, scenario) == 1
    # The next request of the same browser is answered by its SSO session: the same error.
    again = query_of(browser.authorize(CLIENT_ID, redirect_uri=CALLBACK).headers["Location"])
    assert again["error"] == "temporarily_unavailable"
    other = _login(Browser(app), rp, OTHER)
    assert "code" in other and "error" not in other


def test_authorize_status(app, browser, rp):
    add_scenario(app, "authorize", "status", "503")
    response = browser.authorize(CLIENT_ID, redirect_uri=CALLBACK)
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"


# --- token ---------------------------------------------------------------------------------
def test_token_error_and_status(app, browser, rp):
    scenario = add_scenario(app, "token", "error", "invalid_grant")
    callback = _login(browser, rp)
    response = exchange_code(app, rp, callback["code"], callback["verifier"], redirect_uri=CALLBACK)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_grant",
        "error_description": f"psc-idp scenario {scenario}",
    }
    assert response.headers["X-PSC-Scenario"] == scenario
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        from psc_idp.devtools.scenarios import store

        store.remove(CLIENT_ID)
        db.session.commit()
    add_scenario(app, "token", "status", "502")
    service = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=basic(CLIENT_ID, rp.secret),
    )
    assert service.status_code == 502 and service.get_json()["error"] == "server_error"


def test_token_error_for_another_professional_changes_nothing(app, browser, rp):
    add_scenario(app, "token", "error", "invalid_grant", OTHER)
    tokens = _tokens(app, browser, rp, DOCTOR)
    assert tokens["access_token"]


def test_token_delay_then_the_normal_answer(app, browser, rp):
    scenario = add_scenario(app, "token", "delay", "1")
    callback = _login(browser, rp)
    started = time.monotonic()
    response = exchange_code(app, rp, callback["code"], callback["verifier"], redirect_uri=CALLBACK)
    assert time.monotonic() - started >= 1.0
    assert response.status_code == 200 and response.get_json()["id_token"]
    assert response.headers["X-PSC-Scenario"] == scenario


def test_dropped_and_renamed_claims_in_both_tokens(app, browser, rp):
    dropped = add_scenario(app, "token", "drop_claim", "SubjectNameID")
    renamed = add_scenario(app, "token", "rename_claim", "authMode=auth_mode")
    tokens = _tokens(app, browser, rp)
    for name in ("id_token", "access_token"):
        claims = decode(tokens[name])
        assert "SubjectNameID" not in claims
        assert "authMode" not in claims and claims["auth_mode"] == "MOBILE"
    # The refresh goes through the same issuance.
    refreshed = app.test_client().post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(CLIENT_ID, rp.secret),
    )
    assert "SubjectNameID" not in decode(refreshed.get_json()["id_token"])
    assert set(refreshed.headers["X-PSC-Scenario"].split(", ")) == {dropped, renamed}
    # UserInfo is another endpoint: untouched.
    info = _userinfo(app, tokens["access_token"]).get_json()
    assert info["SubjectNameID"] == DOCTOR and info["authMode"] == "MOBILE"


def test_acr_other_than_requested(app, browser, rp):
    add_scenario(app, "token", "acr", "eidas3")
    callback = _login(browser, rp, acr_values="eidas1")
    response = exchange_code(app, rp, callback["code"], callback["verifier"], redirect_uri=CALLBACK)
    tokens = response.get_json()
    assert decode(tokens["id_token"])["acr"] == "eidas3"
    assert decode(tokens["access_token"])["acr"] == "eidas3"


def test_expired_tokens(app, browser, rp):
    add_scenario(app, "token", "expired_token")
    tokens = _tokens(app, browser, rp)
    now = time.time()
    for name in ("id_token", "access_token"):
        claims = decode(tokens[name])
        assert claims["exp"] < now and claims["exp"] - claims["iat"] == 120
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(
            tokens["id_token"],
            _jwk(app, tokens["id_token"]),
            algorithms=["RS256"],
            audience=CLIENT_ID,
        )
    # The server refuses its own expired access token, as a resource server would.
    assert _userinfo(app, tokens["access_token"]).status_code == 401


def test_wrongly_signed_tokens(app, browser, rp):
    add_scenario(app, "token", "wrong_signature")
    tokens = _tokens(app, browser, rp)
    key = _jwk(app, tokens["id_token"])  # the kid names a key of the JWKS…
    with pytest.raises(jwt.InvalidSignatureError):  # …whose signature check fails
        jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=CLIENT_ID)
    assert _userinfo(app, tokens["access_token"]).status_code == 401


def _jwk(app, token: str):
    kid = jwt.get_unverified_header(token)["kid"]
    keys = app.test_client().get(CERTS).get_json()["keys"]
    return jwt.PyJWK(next(k for k in keys if k["kid"] == kid)).key


# --- userinfo ------------------------------------------------------------------------------
def test_userinfo_error_is_a_bearer_error(app, browser, rp):
    tokens = _tokens(app, browser, rp)
    scenario = add_scenario(app, "userinfo", "error", "insufficient_scope")
    response = _userinfo(app, tokens["access_token"])
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert response.headers["X-PSC-Scenario"] == scenario


def test_userinfo_claims_and_older_shape(app, browser, rp):
    tokens = _tokens(app, browser, rp)
    current = _userinfo(app, tokens["access_token"]).get_json()
    assert "otherIds" in current
    scenario = add_scenario(app, "userinfo", "userinfo_profile", "2021")
    add_scenario(app, "userinfo", "drop_claim", "given_name")
    add_scenario(app, "userinfo", "rename_claim", "SubjectRefPro=subjectRefPro")
    response = _userinfo(app, tokens["access_token"])
    info = response.get_json()
    assert "otherIds" not in info  # 2021 payloads lack it (psc-reference §5)
    assert "given_name" not in info
    assert "SubjectRefPro" not in info and info["subjectRefPro"]["exercices"]
    assert scenario in response.headers["X-PSC-Scenario"]


def test_userinfo_scenario_for_another_professional(app, browser, rp):
    tokens = _tokens(app, browser, rp, DOCTOR)
    add_scenario(app, "userinfo", "status", "500", OTHER)
    response = _userinfo(app, tokens["access_token"])
    assert response.status_code == 200 and "X-PSC-Scenario" not in response.headers


# --- introspect ----------------------------------------------------------------------------
def test_introspection_error(app, browser, rp):
    tokens = _tokens(app, browser, rp)
    scenario = add_scenario(app, "introspect", "error", "invalid_client", DOCTOR)
    response = app.test_client().post(
        INTROSPECT,
        data={"token": tokens["access_token"]},
        headers=basic(CLIENT_ID, rp.secret),
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["X-PSC-Scenario"] == scenario
    other = _tokens(app, browser, rp, OTHER)
    response = app.test_client().post(
        INTROSPECT, data={"token": other["access_token"]}, headers=basic(CLIENT_ID, rp.secret)
    )
    assert response.status_code == 200 and response.get_json()["active"] is True


# --- off -----------------------------------------------------------------------------------
def test_nothing_happens_when_scenarios_are_off(make_app, app, browser, rp):
    add_scenario(app, "authorize", "error", "access_denied")
    add_scenario(app, "userinfo", "status", "500")
    off = make_app(scenarios=False)
    assert "psc_issuance_changes" not in off.extensions
    response = off.test_client().get(
        AUTHORIZE,
        query_string={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/wallet/login/")
    assert "X-PSC-Scenario" not in response.headers
    # Nor at the token endpoint nor at UserInfo: the claims as issued, the normal answer.
    add_scenario(app, "token", "drop_claim", "SubjectNameID")
    add_scenario(app, "token", "expired_token")
    issued = off.test_cli_runner().invoke(
        args=["token", "issue", DOCTOR, "--client", CLIENT_ID, "--json"]
    )
    tokens = json.loads(issued.output)
    claims = decode(tokens["id_token"])
    assert claims["SubjectNameID"] == DOCTOR and claims["exp"] > time.time()
    info = off.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200 and "X-PSC-Scenario" not in info.headers
