"""The ``claims`` request parameter (OIDC Core §5.5) at the authorization endpoint and PAR:
claims added to the ID token or UserInfo beyond the scopes, and ``acr`` asked as essential:
never a silent downgrade, never a level the request did not name."""

from __future__ import annotations

import html
import json
import secrets

import pytest

from psc_idp.extensions import db
from psc_idp.protocol.authorize_checks import unmet_essential_acr
from psc_idp.protocol.clients import upsert_client
from tests.helpers import (
    DOCTOR,
    ISSUER_PATH,
    OIDC,
    REDIRECT,
    USERINFO,
    RegisteredClient,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
    token_call,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
PAR = f"{OIDC}/ext/par/request"
EMAIL = "robert.specialiste0021889@example.org"  # the demo realm's doctor
PHONE = "06 00 00 00 01"


def claims(**members) -> str:
    return json.dumps(members)


def login(browser, client_id="test-web", auth_mode="MOBILE", **params) -> tuple[dict, str]:
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client_id,
        auth_mode=auth_mode,
        code_challenge=challenge,
        code_challenge_method="S256",
        **params,
    )
    return callback, verifier


def tokens_for(app, browser, client: RegisteredClient, **params) -> dict:
    callback, verifier = login(browser, client.client_id, **params)
    response = exchange_code(app, client, callback["code"], verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def userinfo(app, access_token: str) -> dict:
    response = app.test_client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def redirected_error(response) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(REDIRECT + "?")
    return query_of(response.headers["Location"])


@pytest.fixture(scope="module")
def narrow(app) -> RegisteredClient:
    """A client allowed only openid and scope_all: the claims parameter gives it nothing more."""
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": "claims-narrow",
                "secret": secret,
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "scope_all"],
            }
        )
        db.session.commit()
    return RegisteredClient("claims-narrow", secret)


def test_discovery_says_the_claims_parameter_is_supported(app):
    document = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    assert document["claims_parameter_supported"] is True


def test_requested_id_token_claims_are_added_beyond_the_scopes(app, browser, clients):
    asked = claims(id_token={"email": None, "phone_number": {"essential": True}})
    tokens = tokens_for(app, browser, clients.web, claims=asked)
    id_token = decode(tokens["id_token"])
    assert id_token["email"] == EMAIL and id_token["phone_number"] == PHONE
    # Asked for the ID token only: UserInfo keeps what the scopes give.
    assert "email" not in userinfo(app, tokens["access_token"])
    assert "email" not in decode(tokens["access_token"])


def test_without_the_parameter_the_scopes_alone_decide(app, browser, clients):
    tokens = tokens_for(app, browser, clients.web)
    assert "email" not in decode(tokens["id_token"])


def test_requested_userinfo_claims_are_at_userinfo_only(app, browser, clients):
    tokens = tokens_for(app, browser, clients.web, claims=claims(userinfo={"email": None}))
    assert userinfo(app, tokens["access_token"])["email"] == EMAIL
    assert "email" not in decode(tokens["id_token"])


def test_a_claim_without_a_value_or_unknown_is_left_out_not_an_error(app, browser, clients):
    asked = claims(id_token={"address": {"essential": True}, "no_such_claim": None})
    id_token = decode(tokens_for(app, browser, clients.web, claims=asked)["id_token"])
    assert "address" not in id_token and "no_such_claim" not in id_token


def test_the_parameter_does_not_widen_the_client_s_scopes(app, browser, narrow):
    asked = claims(id_token={"email": None}, userinfo={"phone_number": None})
    tokens = tokens_for(app, browser, narrow, claims=asked)
    assert "email" not in decode(tokens["id_token"])
    assert "phone_number" not in userinfo(app, tokens["access_token"])


def test_refreshed_id_token_keeps_the_requested_claims(app, browser, clients):
    tokens = tokens_for(app, browser, clients.web, claims=claims(id_token={"email": None}))
    refreshed = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.get_json()
    assert decode(refreshed.get_json()["id_token"])["email"] == EMAIL


# --- malformed ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '"id_token"',
        '{"id_token": []}',
        '{"userinfo": {"email": true}}',
        '{"id_token": {"email": {"essential": "yes"}}}',
        '{"id_token": {"acr": {"values": "eidas3"}}}',
        '{"id_token": {"acr": {"essential": true, "values": [3]}}}',
        '{"id_token": {"acr": {"essential": true, "value": {"x": 1}}}}',
        '{"id_token": {"x": {"value": ' + "[" * 10 + "]" * 10 + "}}}",
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "member-not-object",
        "claim-not-object",
        "essential-not-boolean",
        "values-not-array",
        "acr-not-string",
        "acr-value-object",
        "too-deep",
    ],
)
def test_malformed_claims_is_invalid_request_at_the_redirect_uri(browser, clients, value):
    error = redirected_error(browser.authorize("test-web", claims=value, state="st-c"))
    assert error["error"] == "invalid_request"
    assert error["error_description"] == "Invalid parameter: claims"
    assert (error["state"], error["iss"]) == ("st-c", ISSUER)


def test_repeated_claims_is_refused(browser, clients):
    url = "/wallet/auth?response_type=code&client_id=test-web&scope=openid&state=s"
    response = browser.http.get(f"{url}&claims=%7B%7D&claims=%7B%7D")
    error = redirected_error(response)
    assert error["error_description"] == "Duplicated parameter: claims"


def test_unknown_top_level_members_are_ignored(app, browser, clients):
    tokens = tokens_for(app, browser, clients.web, claims='{"verified_claims": {"x": 1}}')
    assert decode(tokens["id_token"])["sub"].endswith(DOCTOR)


# --- acr --------------------------------------------------------------------------------------
def essential(*values: str, target: str = "id_token") -> str:
    return json.dumps({target: {"acr": {"essential": True, "values": list(values)}}})


def test_essential_acr_refuses_a_weaker_means_then_accepts_the_card(app, browser, clients):
    verifier, challenge = pkce_pair()
    start = browser.authorize(
        "test-web",
        claims=essential("eidas3"),
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    login_page = start.headers["Location"]
    assert login_page.startswith("/wallet/login/")
    refused = browser.pick_identity(login_page, auth_mode="MOBILE")
    assert refused.status_code == 400 and "niveau plus élevé" in refused.get_data(as_text=True)
    accepted = browser.pick_identity(login_page, auth_mode="CARD")
    callback = query_of(browser.http.get(accepted.headers["Location"]).headers["Location"])
    id_token = decode(
        exchange_code(app, clients.web, callback["code"], verifier).get_json()["id_token"]
    )
    assert (id_token["acr"], id_token["authMode"]) == ("eidas3", "CARD")


def test_essential_acr_is_exact_a_stronger_level_is_not_one_of_its_values(browser, clients):
    start = browser.authorize(
        "test-web",
        claims=essential("eidas1"),
        code_challenge=pkce_pair()[1],
        code_challenge_method="S256",
    )
    refused = browser.pick_identity(start.headers["Location"], auth_mode="CARD")
    assert refused.status_code == 400
    assert "n'accepte pas le niveau eidas3" in html.unescape(refused.get_data(as_text=True))


def test_essential_acr_with_value_and_at_userinfo_counts_too(app, browser, clients):
    asked = json.dumps({"userinfo": {"acr": {"essential": True, "value": "eidas3"}}})
    start = browser.authorize(
        "test-web", claims=asked, code_challenge=pkce_pair()[1], code_challenge_method="S256"
    )
    refused = browser.pick_identity(start.headers["Location"], auth_mode="MOBILE")
    assert refused.status_code == 400


def test_an_existing_session_below_the_essential_acr_is_not_enough(browser, clients):
    login(browser)  # MOBILE: eidas1
    again = browser.authorize(
        "test-web",
        claims=essential("eidas2", "eidas3"),
        prompt="none",
        state="st-p",
        code_challenge=pkce_pair()[1],
        code_challenge_method="S256",
    )
    assert redirected_error(again)["error"] == "login_required"


def test_a_session_at_one_of_the_values_answers_at_once(app, browser, clients):
    login(browser)  # MOBILE: eidas1
    callback, verifier = login(browser, claims=essential("eidas1", "eidas3"), prompt="none")
    id_token = decode(
        exchange_code(app, clients.web, callback["code"], verifier).get_json()["id_token"]
    )
    assert id_token["acr"] == "eidas1"


@pytest.mark.parametrize("values", [["loa-max"], []], ids=["unknown", "none-known"])
def test_essential_acr_naming_no_known_level_cannot_be_met(browser, clients, values):
    asked = json.dumps({"id_token": {"acr": {"essential": True, "values": values or ["x"]}}})
    error = redirected_error(browser.authorize("test-web", claims=asked, state="st-u"))
    assert error["error"] == "unmet_authentication_requirements"
    assert (error["state"], error["iss"]) == ("st-u", ISSUER)


def test_unknown_values_beside_a_known_one_are_ignored(app, browser, clients):
    callback, verifier = login(browser, claims=essential("loa-max", "eidas1"))
    id_token = decode(
        exchange_code(app, clients.web, callback["code"], verifier).get_json()["id_token"]
    )
    assert id_token["acr"] == "eidas1"


def test_a_voluntary_acr_is_a_wish_as_acr_values(app, browser, clients):
    # Not essential: an unknown value asks for no level, a login goes through.
    voluntary = json.dumps({"id_token": {"acr": {"values": ["loa-max"]}}})
    callback, verifier = login(browser, claims=voluntary)
    assert exchange_code(app, clients.web, callback["code"], verifier).status_code == 200
    # A known one asks for that level or stronger, as acr_values does.
    start = browser.authorize(
        "test-web",
        claims=json.dumps({"id_token": {"acr": {"values": ["eidas3"]}}}),
        prompt="login",
        code_challenge=pkce_pair()[1],
        code_challenge_method="S256",
    )
    assert browser.pick_identity(start.headers["Location"], auth_mode="MOBILE").status_code == 400


def test_the_last_guard_compares_the_login_with_the_essential_values(app_context):
    data = {"claims": essential("eidas2", "eidas3")}
    assert unmet_essential_acr(data, "eidas1") is True
    assert unmet_essential_acr(data, "eidas3") is False
    assert unmet_essential_acr({"acr_values": "eidas3"}, "eidas1") is False  # voluntary


# --- PAR ----------------------------------------------------------------------------------------
def test_pushed_request_checks_and_keeps_the_claims(app, browser, clients):
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "test-web",
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    headers, _ = clients.web.auth()
    bad = app.test_client().post(PAR, data={**params, "claims": "[1"}, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "invalid_request",
        "error_description": "Invalid parameter: claims",
    }
    unmet = app.test_client().post(PAR, data={**params, "claims": essential("x")}, headers=headers)
    assert unmet.status_code == 400
    assert unmet.get_json()["error"] == "unmet_authentication_requirements"
    pushed = app.test_client().post(
        PAR, data={**params, "claims": claims(id_token={"email": None})}, headers=headers
    )
    assert pushed.status_code == 201, pushed.get_json()
    request_uri = pushed.get_json()["request_uri"]
    start = browser.http.get(
        "/wallet/auth", query_string={"client_id": "test-web", "request_uri": request_uri}
    )
    done = browser.pick_identity(start.headers["Location"])
    callback = query_of(browser.http.get(done.headers["Location"]).headers["Location"])
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    assert decode(tokens["id_token"])["email"] == EMAIL
