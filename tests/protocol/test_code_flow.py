"""Authorization code flow, as an SP integrating PSC performs it."""

from __future__ import annotations

import jwt
import pytest

from tests.helpers import (
    CERTS,
    DOCTOR,
    REDIRECT,
    USERINFO,
    decode,
    exchange_code,
    login_and_get_tokens,
    pkce_pair,
)

ISSUER = "http://localhost:8080/auth/realms/esante-wallet"


def test_login_returns_code_state_session_state_and_iss(app, browser, clients):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.web.client_id, state="xyz", code_challenge=challenge, code_challenge_method="S256"
    )
    assert set(callback) == {"code", "state", "session_state", "iss"}
    assert callback["state"] == "xyz"
    assert callback["iss"] == ISSUER


def test_tokens_have_psc_shape_and_valid_signatures(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web, nonce="n-123")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 120 and tokens["refresh_expires_in"] == 1800
    assert tokens["not-before-policy"] == 0
    assert tokens["scope"] == "openid scope_all identity"
    jwks = jwt.PyJWKSet.from_dict(app.test_client().get(CERTS).get_json())
    for name in ("id_token", "access_token"):
        header = jwt.get_unverified_header(tokens[name])
        assert header["alg"] == "RS256" and header["kid"]
        key = next(k for k in jwks.keys if k.key_id == header["kid"])
        jwt.decode(tokens[name], key.key, algorithms=["RS256"], options={"verify_aud": False})
    id_token = decode(tokens["id_token"])
    assert id_token["sub"] == f"f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:{DOCTOR}"
    assert id_token["SubjectNameID"] == id_token["preferred_username"] == DOCTOR
    assert id_token["typ"] == "ID" and id_token["aud"] == id_token["azp"] == "test-web"
    assert id_token["nonce"] == "n-123"
    assert id_token["sid"] == id_token["session_state"] == tokens["session_state"]
    assert id_token["exp"] - id_token["iat"] == 120
    assert (id_token["authMode"], id_token["acr"]) == ("MOBILE", "eidas1")
    assert id_token["given_name"] and id_token["family_name"]
    assert id_token["at_hash"]
    access = decode(tokens["access_token"])
    assert "aud" not in access
    assert access["typ"] == "Bearer" and access["azp"] == "test-web"
    assert access["scope"] == "openid scope_all identity"
    assert access["otherIds"][0]["identifiant"] == DOCTOR


@pytest.mark.parametrize(
    "auth_mode,acr", [("CARD", "eidas3"), ("MOBILE", "eidas1"), ("FIDO", "eidas2")]
)
def test_picker_yields_chosen_auth_mode_and_acr(app, browser, clients, auth_mode, acr):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.web.client_id,
        auth_mode=auth_mode,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["authMode"], claims["acr"]) == (auth_mode, acr)
    info = (
        app.test_client()
        .get(USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
        .get_json()
    )
    assert info["authMode"] == auth_mode


def test_code_is_single_use_and_replay_revokes_tokens(app, browser, clients):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    first = exchange_code(app, clients.web, callback["code"], verifier)
    assert first.status_code == 200
    access = first.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert app.test_client().get(USERINFO, headers=headers).status_code == 200
    replay = exchange_code(app, clients.web, callback["code"], verifier)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"
    assert app.test_client().get(USERINFO, headers=headers).status_code == 401


def test_redirect_uri_must_match_at_token_endpoint(app, browser, clients):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    response = exchange_code(
        app, clients.web, callback["code"], verifier, redirect_uri=REDIRECT + "/other"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
