"""Refresh, client credentials, introspection and revocation on their success paths."""

from __future__ import annotations

import jwt

from tests.helpers import (
    CERTS,
    DOCTOR,
    INTROSPECT,
    REVOKE,
    USERINFO,
    basic,
    decode,
    login_and_get_tokens,
    token_call,
)


def test_refresh_rotates_and_keeps_the_login_facts(app, browser, clients):
    first = login_and_get_tokens(app, browser, clients.web, nonce="n-1")
    response = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_state"] == first["session_state"]
    old, new = decode(first["id_token"]), decode(second["id_token"])
    for claim in ("sub", "sid", "auth_time", "acr", "authMode", "nonce"):
        assert new[claim] == old[claim]
    again = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=second["refresh_token"]
    )
    assert again.status_code == 200


def test_refresh_may_narrow_scope(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = token_call(
        app,
        clients.web,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        scope="openid",
    )
    assert response.status_code == 200
    assert response.get_json()["scope"] == "openid"


def test_public_client_refreshes_with_its_client_id(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.public)
    response = token_call(
        app, clients.public, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert response.status_code == 200


def test_client_credentials_gives_a_service_account_token(app, clients):
    response = token_call(app, clients.web, grant_type="client_credentials", scope="scope_all")
    assert response.status_code == 200
    body = response.get_json()
    assert "refresh_token" not in body and "id_token" not in body
    claims = decode(body["access_token"])
    assert claims["preferred_username"] == "service-account-test-web"
    assert claims["azp"] == claims["clientId"] == "test-web"
    info = app.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 403  # no openid scope: Keycloak's answer


def test_introspection_returns_claims_for_access_and_refresh_tokens(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    http = app.test_client()
    auth = basic(clients.web.client_id, clients.web.secret)
    access = http.post(INTROSPECT, data={"token": tokens["access_token"]}, headers=auth).get_json()
    assert access["active"] is True
    assert access["client_id"] == "test-web"
    assert access["username"] == DOCTOR and access["SubjectNameID"] == DOCTOR
    assert access["scope"] == "openid scope_all identity"
    assert access["token_type"] == "Bearer"
    refresh = http.post(
        INTROSPECT,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=auth,
    ).get_json()
    assert refresh["active"] is True and refresh["typ"] == "Refresh"
    assert "SubjectNameID" not in refresh


def test_resource_server_may_introspect_another_clients_token(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    headers = basic(clients.signed.client_id, clients.signed.secret)
    body = (
        app.test_client()
        .post(INTROSPECT, data={"token": tokens["access_token"]}, headers=headers)
        .get_json()
    )
    assert body["active"] is True and body["client_id"] == "test-web"


def test_revoking_a_refresh_token_ends_its_family(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    http = app.test_client()
    auth = basic(clients.web.client_id, clients.web.secret)
    revoked = http.post(REVOKE, data={"token": tokens["refresh_token"]}, headers=auth)
    assert revoked.status_code == 200
    refresh = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.get_json()["error"] == "invalid_grant"
    body = http.post(INTROSPECT, data={"token": tokens["access_token"]}, headers=auth).get_json()
    assert body == {"active": False}


def test_revoking_an_access_token_ends_only_that_token(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    http = app.test_client()
    auth = basic(clients.web.client_id, clients.web.secret)
    http.post(REVOKE, data={"token": tokens["access_token"]}, headers=auth)
    userinfo = http.get(USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 401
    refresh = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.status_code == 200


def test_per_client_signing_algorithms(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.signed)
    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "ES256"
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "PS256"
    jwks = jwt.PyJWKSet.from_dict(app.test_client().get(CERTS).get_json())
    for name, alg in (("id_token", "ES256"), ("access_token", "PS256")):
        kid = jwt.get_unverified_header(tokens[name])["kid"]
        key = next(k for k in jwks.keys if k.key_id == kid)
        jwt.decode(tokens[name], key.key, algorithms=[alg], options={"verify_aud": False})
    signed = app.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert signed.mimetype == "application/jwt"
    claims = decode(signed.get_data(as_text=True))
    assert claims["aud"] == "test-signed" and claims["SubjectNameID"] == DOCTOR
