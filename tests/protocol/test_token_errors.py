"""The token endpoint under malformed or hostile requests: RFC 6749 §5.2 errors in JSON, never a
500, and a failed request never costs the legitimate client its code or its tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.helpers import (
    INTROSPECT,
    REDIRECT,
    TOKEN,
    USERINFO,
    basic,
    exchange_code,
    login_and_get_tokens,
    pkce_pair,
    token_call,
)

FORM = "application/x-www-form-urlencoded"
#: A practitioner only this file logs in with, so that disabling them disturbs no other test.
PRACTITIONER = "899700100987"


def oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    return body


def post(app, data=None, headers=None, **kwargs):
    return app.test_client().post(TOKEN, data=data, headers=headers, **kwargs)


def code_for(browser, client_id: str = "test-web", **params) -> tuple[str, str]:
    """A fresh code (with an S256 challenge) and its verifier."""
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client_id, code_challenge=challenge, code_challenge_method="S256", **params
    )
    return callback["code"], verifier


def refresh(app, client, refresh_token: str, **extra: str):
    return token_call(app, client, grant_type="refresh_token", refresh_token=refresh_token, **extra)


def userinfo_status(app, access_token: str) -> int:
    headers = {"Authorization": f"Bearer {access_token}"}
    return app.test_client().get(USERINFO, headers=headers).status_code


@contextmanager
def db_session(app) -> Iterator:
    from psc_idp.extensions import db

    with app.app_context():
        yield db.session
        db.session.commit()


# --- the request itself --------------------------------------------------------------------
def test_json_body_is_refused(app, clients):
    headers = basic(clients.web.client_id, clients.web.secret)
    response = post(app, json={"grant_type": "client_credentials"}, headers=headers)
    oauth_error(response, 400, "invalid_request")


def test_get_is_refused_with_allow_header(app):
    response = app.test_client().get(TOKEN, query_string={"grant_type": "client_credentials"})
    oauth_error(response, 405, "invalid_request")
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


@pytest.mark.parametrize(
    "data,error",
    [
        ({"scope": "openid"}, "invalid_request"),
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
        ({"grant_type": ["client_credentials", "client_credentials"]}, "invalid_request"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": ["openid", "rpps"]}, "invalid_request"),
        ({"grant_type": "client_credentials", "client_secret": "x"}, "invalid_request"),
    ],
    ids=[
        "missing-grant-type",
        "password",
        "device-code",
        "duplicated-grant-type",
        "missing-code",
        "missing-refresh-token",
        "duplicated-scope",
        "basic-and-secret-in-body",
    ],
)
def test_malformed_request(app, clients, data, error):
    headers = basic(clients.web.client_id, clients.web.secret)
    oauth_error(post(app, data, headers), 400, error)


def test_huge_body_is_refused_in_json(app, clients):
    headers = basic(clients.web.client_id, clients.web.secret)
    data = {"grant_type": "client_credentials", "padding": "x" * (65 * 1024)}
    oauth_error(post(app, data, headers), 413, "invalid_request")


# --- client authentication -----------------------------------------------------------------
def test_wrong_basic_secret_is_401_with_challenge(app, clients):
    response = post(app, {"grant_type": "client_credentials"}, basic("test-web", "wrong"))
    oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "data,headers",
    [
        ({"client_id": "test-post", "client_secret": "wrong"}, None),
        ({}, basic("unknown-client", "secret")),
        ({"client_id": "unknown-client", "client_secret": "secret"}, None),
        ({"client_id": "unknown-client"}, None),
        ({}, {"Authorization": "Basic !!not-base64!!"}),
        ({}, {"Authorization": "Basic"}),
        ({}, {"Authorization": "Basic éééé"}),
        ({}, {"Authorization": "Bearer abc"}),
    ],
    ids=[
        "post-wrong-secret",
        "basic-unknown",
        "post-unknown",
        "none-unknown",
        "basic-garbage",
        "basic-empty",
        "basic-not-ascii",
        "bearer",
    ],
)
def test_client_not_authenticated(app, data, headers):
    # 401 whatever the method, as Keycloak (RFC 6749 §5.2 allows it without a header too).
    response = post(app, {"grant_type": "client_credentials", **data}, headers)
    oauth_error(response, 401, "invalid_client")


def test_public_client_cannot_use_client_credentials(app, clients):
    response = token_call(app, clients.public, grant_type="client_credentials")
    oauth_error(response, 401, "invalid_client")


def test_confidential_client_cannot_skip_authentication(app, browser, clients):
    code, verifier = code_for(browser)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "test-web",
    }
    oauth_error(post(app, data), 401, "invalid_client")
    # The code was not spent by the refused attempt.
    assert exchange_code(app, clients.web, code, verifier).status_code == 200


# --- authorization code --------------------------------------------------------------------
def test_expired_code_is_invalid_grant(app, browser, clients):
    from psc_idp.protocol.models import AuthorizationCode
    from psc_idp.protocol.secrets import hash_secret
    from psc_idp.timeutil import now

    code, verifier = code_for(browser)
    with db_session(app) as session:
        row = session.get(AuthorizationCode, hash_secret(code, "code"))
        row.expires_at = now() - timedelta(seconds=1)
    oauth_error(exchange_code(app, clients.web, code, verifier), 400, "invalid_grant")


def test_code_of_another_client_is_invalid_grant_and_stays_usable(app, browser, clients):
    code, verifier = code_for(browser)
    oauth_error(exchange_code(app, clients.signed, code, verifier), 400, "invalid_grant")
    assert exchange_code(app, clients.web, code, verifier).status_code == 200


def test_unknown_code_is_invalid_grant(app, clients):
    response = exchange_code(app, clients.web, "not-a-code", "v" * 43)
    oauth_error(response, 400, "invalid_grant")


@pytest.mark.parametrize(
    "verifier",
    [pkce_pair()[0], None, "short", "é" * 50, "a" * 129],
    ids=["mismatch", "missing", "too-short", "not-ascii", "too-long"],
)
def test_pkce_verifier_errors(app, browser, clients, verifier):
    code, _ = code_for(browser)
    data = {"code_verifier": verifier} if verifier else {}
    response = exchange_code(app, clients.web, code, **data)
    oauth_error(response, 400, "invalid_grant")


def test_verifier_without_challenge_is_invalid_grant(app, browser, clients):
    code = browser.login("test-web")["code"]
    response = exchange_code(app, clients.web, code, pkce_pair()[0])
    oauth_error(response, 400, "invalid_grant")


# --- refresh token -------------------------------------------------------------------------
def test_unknown_refresh_token_is_invalid_grant(app, clients):
    oauth_error(refresh(app, clients.web, "unknown.refresh.token"), 400, "invalid_grant")


def test_refresh_token_of_another_client_is_invalid_grant_and_stays_usable(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    oauth_error(refresh(app, clients.signed, tokens["refresh_token"]), 400, "invalid_grant")
    assert refresh(app, clients.web, tokens["refresh_token"]).status_code == 200


def test_reused_refresh_token_revokes_the_family(app, browser, clients):
    first = login_and_get_tokens(app, browser, clients.web)
    second = refresh(app, clients.web, first["refresh_token"]).get_json()
    assert userinfo_status(app, second["access_token"]) == 200

    oauth_error(refresh(app, clients.web, first["refresh_token"]), 400, "invalid_grant")

    oauth_error(refresh(app, clients.web, second["refresh_token"]), 400, "invalid_grant")
    assert userinfo_status(app, second["access_token"]) == 401
    assert userinfo_status(app, first["access_token"]) == 401
    introspection = app.test_client().post(
        INTROSPECT,
        data={"token": second["access_token"]},
        headers=basic(clients.signed.client_id, clients.signed.secret),
    )
    assert introspection.get_json() == {"active": False}


@pytest.mark.parametrize("scope", ["openid rpps", "openid scope_all identity unknown"])
def test_refresh_cannot_widen_scope(app, browser, clients, scope):
    tokens = login_and_get_tokens(app, browser, clients.web)
    assert tokens["scope"] == "openid scope_all identity"
    oauth_error(
        refresh(app, clients.web, tokens["refresh_token"], scope=scope), 400, "invalid_scope"
    )
    # The refused attempt did not spend the refresh token.
    narrower = refresh(app, clients.web, tokens["refresh_token"], scope="openid")
    assert narrower.status_code == 200


def test_refresh_for_inactive_practitioner_is_invalid_grant(app, browser, clients):
    from psc_idp.directory.lookup import find_practitioner

    def set_active(value: bool) -> None:
        with db_session(app):
            find_practitioner(PRACTITIONER).active = value

    tokens = login_and_get_tokens(app, browser, clients.web, national_id=PRACTITIONER)
    set_active(False)
    try:
        oauth_error(refresh(app, clients.web, tokens["refresh_token"]), 400, "invalid_grant")
        assert userinfo_status(app, tokens["access_token"]) == 401
    finally:
        set_active(True)
    # The refusal spent nothing: once active again, the same refresh token works.
    assert refresh(app, clients.web, tokens["refresh_token"]).status_code == 200
