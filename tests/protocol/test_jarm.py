"""JARM (JWT Secured Authorization Response Mode): the authorization response and its errors as
one signed ``response`` JWT, in the query, the fragment or a form post.

Each JWT is verified as a client would: with joserfc (not the server's JOSE library) against the
published JWKS, restricted to the algorithm the client registered (RS256 when it registered
none), then its ``iss``, ``aud`` and ``exp``. Nothing but ``response`` travels beside it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import KeySet

from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, client_to_dict, upsert_client, validate
from psc_idp.protocol.models import Client
from psc_idp.realm.loader import RealmInvalid, import_realm, read_realm_file
from tests.helpers import (
    CERTS,
    ISSUER_PATH,
    OIDC,
    REDIRECT,
    RegisteredClient,
    basic,
    exchange_code,
    pkce_pair,
)
from tests.protocol.test_authorize_errors import ISSUER, callback_error, request_params

ES256_CLIENT = "jarm-es256"
ES256_SECRET = "jarm-es256-secret-of-at-least-32-octets"
PAR = f"{OIDC}/ext/par/request"
MODES = ["query.jwt", "fragment.jwt", "form_post.jwt", "jwt"]
#: How each mode travels (``jwt`` is the query for the code flow).
TRANSPORT = {"query.jwt": "query", "fragment.jwt": "fragment", "form_post.jwt": "form_post"}
TRANSPORT["jwt"] = "query"


@pytest.fixture(scope="module")
def es256_client(app) -> RegisteredClient:
    with app.app_context():
        upsert_client(
            {
                "client_id": ES256_CLIENT,
                "secret": ES256_SECRET,
                "redirect_uris": [REDIRECT],
                "authorization_signed_response_alg": "ES256",
            }
        )
        db.session.commit()
    return RegisteredClient(ES256_CLIENT, ES256_SECRET)


def verified(app, token: str, client_id: str = "test-web", alg: str = "RS256") -> dict[str, Any]:
    """The claims of a ``response`` JWT, checked as the client does (JARM §2.4)."""
    keys = KeySet.import_key_set(app.test_client().get(CERTS).get_json())
    decoded = jwt.decode(token, keys, algorithms=[alg])  # a bad signature raises
    claims = decoded.claims
    assert decoded.header["alg"] == alg and decoded.header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == client_id
    assert time.time() < claims["exp"] <= time.time() + 600
    return claims


def response_parameter(answer, mode: str) -> str:
    """The ``response`` JWT, checked to be the only parameter delivered."""
    delivered = callback_error(answer, TRANSPORT[mode])
    assert list(delivered) == ["response"], delivered
    return delivered["response"]


def login(browser, mode: str, client_id: str = "test-web", **params: str):
    """Authorize with ``mode`` and log in at la mire; the answer that reaches the client."""
    start = browser.authorize(client_id, response_mode=mode, **params)
    assert start.headers["Location"].startswith("/wallet/login/")
    done = browser.pick_identity(start.headers["Location"])
    return browser.http.get(done.headers["Location"])


# --- discovery ---------------------------------------------------------------------------------
def test_discovery_advertises_the_jwt_modes_and_signing_algorithms(app):
    metadata = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    assert set(MODES) <= set(metadata["response_modes_supported"])
    assert metadata["authorization_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]


# --- responses ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_each_mode_carries_the_code_in_a_signed_jwt(app, browser, clients, mode):
    verifier, challenge = pkce_pair()
    answer = login(
        browser, mode, state="st-jarm", code_challenge=challenge, code_challenge_method="S256"
    )
    claims = verified(app, response_parameter(answer, mode))
    assert claims["state"] == "st-jarm" and claims["session_state"]
    assert "error" not in claims
    # The code inside is the real one: the client exchanges it.
    tokens = exchange_code(app, clients.web, claims["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()


def test_a_form_post_jwt_page_is_not_cached(browser, clients):
    answer = login(browser, "form_post.jwt")
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_sso_answer_uses_the_mode_too(app, browser, clients):
    login(browser, "query")  # opens the session
    again = browser.authorize("test-web", response_mode="fragment.jwt", state="st-sso")
    claims = verified(app, response_parameter(again, "fragment.jwt"))
    assert claims["state"] == "st-sso" and claims["code"]


def test_the_clients_algorithm_signs_its_responses(app, browser, es256_client):
    answer = login(browser, "query.jwt", ES256_CLIENT)
    token = response_parameter(answer, "query.jwt")
    claims = verified(app, token, ES256_CLIENT, "ES256")
    assert claims["code"]
    with pytest.raises(UnsupportedAlgorithmError):  # the client expects its algorithm only
        verified(app, token, ES256_CLIENT, "RS256")


def test_a_pushed_request_asks_for_jarm(app, browser, clients):
    pushed = app.test_client().post(
        PAR,
        data=request_params(response_mode="jwt", state="st-par"),
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    assert pushed.status_code == 201, pushed.get_json()
    login(browser, "query")  # a session: the pushed request is answered at once
    answer = browser.http.get(
        "/wallet/auth",
        query_string={"client_id": "test-web", "request_uri": pushed.get_json()["request_uri"]},
    )
    assert verified(app, response_parameter(answer, "jwt"))["state"] == "st-par"


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_an_error_at_the_redirect_uri_is_a_jwt_too(app, browser, clients, mode):
    answer = browser.http.get(
        "/wallet/auth",
        query_string=request_params(scope="openid unknown_scope", response_mode=mode),
    )
    claims = verified(app, response_parameter(answer, mode))
    assert (claims["error"], claims["state"]) == ("invalid_scope", "st-1")
    assert "unknown_scope" in claims["error_description"]
    assert "code" not in claims


def test_prompt_none_without_session_is_a_jwt_error(app, browser, clients):
    answer = browser.authorize("test-web", response_mode="jwt", prompt="none", state="st-none")
    claims = verified(app, response_parameter(answer, "jwt"))
    assert (claims["error"], claims["state"]) == ("login_required", "st-none")


def test_a_cancelled_login_is_a_jwt_error(app, browser, clients):
    start = browser.authorize("test-web", response_mode="fragment.jwt", state="st-c")
    cancelled = browser.http.get(start.headers["Location"] + "/cancel")
    answer = browser.http.get(cancelled.headers["Location"])
    claims = verified(app, response_parameter(answer, "fragment.jwt"))
    assert (claims["error"], claims["state"]) == ("access_denied", "st-c")


def test_an_error_found_before_the_grant_is_signed_for_the_client(app, browser, es256_client):
    # No response_type: refused before Authlib's grant knows the client.
    params = request_params(ES256_CLIENT, response_type=None, response_mode="query.jwt")
    answer = browser.http.get("/wallet/auth", query_string=params)
    claims = verified(app, response_parameter(answer, "query.jwt"), ES256_CLIENT, "ES256")
    assert claims["error"] == "invalid_request"


@pytest.mark.parametrize("mode", ["jwt.query", "QUERY.JWT", "query.jwt.jwt", "jwe", ""])
def test_an_unknown_mode_is_refused_as_before(browser, clients, mode):
    answer = browser.http.get("/wallet/auth", query_string=request_params(response_mode=mode))
    error = callback_error(answer)
    assert (error["error"], error["error_description"]) == (
        "invalid_request",
        "Invalid parameter: response_mode",
    )
    assert (error["state"], error["iss"]) == ("st-1", ISSUER)


def test_an_unregistered_redirect_uri_never_gets_a_jwt(browser, clients):
    params = request_params(redirect_uri="https://evil.example/cb", response_mode="jwt")
    answer = browser.http.get("/wallet/auth", query_string=params)
    assert answer.status_code == 400 and "Location" not in answer.headers


# --- registration --------------------------------------------------------------------------------
def test_the_algorithm_is_registered_exported_and_checked(app, es256_client):
    with app.app_context():
        assert (
            client_to_dict(db.session.get(Client, ES256_CLIENT))[
                "authorization_signed_response_alg"
            ]
            == "ES256"
        )
    base = {"client_id": "jarm-bad", "secret": ES256_SECRET, "redirect_uris": [REDIRECT]}
    for alg in ("none", "HS256"):
        with pytest.raises(InvalidClient, match="authorization_signed_response_alg"):
            validate({**base, "authorization_signed_response_alg": alg})


def test_the_realm_file_takes_the_algorithm(app, tmp_path):
    path = tmp_path / "realm.yaml"
    entry = (
        f"  - client_id: jarm-realm\n    secret: {ES256_SECRET}\n    redirect_uris: [{REDIRECT}]\n"
    )
    path.write_text(f"clients:\n{entry}    authorization_signed_response_alg: HS256\n")
    with pytest.raises(RealmInvalid) as caught:
        read_realm_file(path)
    assert any(
        "authorization_signed_response_alg" in line for line in caught.value.problems.lines()
    )
    path.write_text(f"clients:\n{entry}    authorization_signed_response_alg: PS256\n")
    with app.app_context():
        import_realm(read_realm_file(path))
        db.session.commit()
        assert db.session.get(Client, "jarm-realm").authorization_signed_response_alg == "PS256"
