"""Pushed authorization requests (RFC 9126) at ``…/ext/par/request``, as Keycloak.

The client pushes its authorization request, authenticated with its own method, and gets a
``request_uri``; the browser then brings only ``client_id`` and ``request_uri``. A request_uri
works once, for a minute, for its own client, on any instance; every PAR error is JSON, never a
redirect."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from psc_idp.extensions import db
from psc_idp.pki import issue_org
from psc_idp.protocol.clients import upsert_client
from psc_idp.protocol.models import PushedAuthorizationRequest
from psc_idp.protocol.pushed_requests import HASH_PURPOSE, REQUEST_URI_PREFIX
from psc_idp.protocol.secrets import hash_secret
from psc_idp.timeutil import now
from tests.helpers import (
    AUTHORIZE,
    ISSUER_PATH,
    OIDC,
    REDIRECT,
    TOKEN,
    Browser,
    RegisteredClient,
    basic,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
PAR = f"{OIDC}/ext/par/request"
PAR_URL = f"http://localhost:8080{PAR}"
TLS_CLIENT = "par-dpi"
MACHINE_CLIENT = "par-machine"


def authorization_params(client_id: str, challenge: str | None = None, /, **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge or pkce_pair()[1],
        "code_challenge_method": "S256",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


def par_auth(client: RegisteredClient) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, form fields) that authenticate ``client`` at the PAR endpoint."""
    if client.private_key is not None:
        return {}, {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client.assertion(aud=PAR_URL),
        }
    return client.auth()


def push(app, client: RegisteredClient, **params):
    headers, form = par_auth(client)
    return app.test_client().post(PAR, data={**params, **form}, headers=headers)


def pushed(app, client: RegisteredClient, **params) -> str:
    response = push(app, client, **params)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["request_uri"]


def redeem(browser: Browser, client_id: str, request_uri: str, **query) -> str:
    """Bring the request_uri to the authorization endpoint, log in if asked; the callback URL."""
    response = browser.http.get(
        AUTHORIZE, query_string={"client_id": client_id, "request_uri": request_uri, **query}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    if location.startswith("/wallet/login/"):
        done = browser.pick_identity(location)
        assert done.status_code == 302, done.get_data(as_text=True)
        location = browser.http.get(done.headers["Location"]).headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return location


def french_page(response) -> str:
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert '<html lang="fr">' in body and "Demande de connexion invalide" in body
    return body


def json_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers
    body = response.get_json()
    assert body["error"] == error
    assert "state" not in body
    return body


def stored_requests(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PushedAuthorizationRequest))


@pytest.fixture(scope="module")
def tls_certificate(app) -> str:
    """A ``tls_client_auth`` client's ORG AUTH_CLI certificate (PEM)."""
    with app.app_context():
        issued = issue_org("1B0064177", "CLINIQUE DES PAR", "DPI PAR")
        upsert_client(
            {
                "client_id": TLS_CLIENT,
                "token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_subject_dn": issued.subject_dn,
                "redirect_uris": [REDIRECT],
            }
        )
        db.session.commit()
        return issued.certificate_pem().decode()


@pytest.fixture(scope="module")
def machine(app) -> RegisteredClient:
    """A confidential client registered for client credentials only (no response type)."""
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": MACHINE_CLIENT,
                "secret": secret,
                "redirect_uris": [REDIRECT],
                "grant_types": ["client_credentials"],
            }
        )
        db.session.commit()
    return RegisteredClient(MACHINE_CLIENT, secret)


# --- the whole flow, with each client authentication method -----------------------------------
@pytest.mark.parametrize("name", ["web", "post", "jwt"])
def test_confidential_client_pushes_then_logs_in(app, browser, clients, name):
    client = getattr(clients, name)
    verifier, challenge = pkce_pair()
    params = authorization_params(client.client_id, challenge)
    response = push(app, client, **params)

    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert len(body["request_uri"]) - len(REQUEST_URI_PREFIX) >= 43  # 256 random bits

    # RFC 9126 §4: the pushed parameters win; the browser's own are ignored.
    callback = query_of(
        redeem(
            browser,
            client.client_id,
            body["request_uri"],
            state="not-this-one",
            nonce="nor-this-one",
            redirect_uri="https://evil.example/callback",
            scope="openid unknown_scope",
        )
    )
    assert callback["state"] == params["state"] and callback["iss"] == ISSUER

    tokens = exchange_code(app, client, callback["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    claims = decode(tokens.get_json()["id_token"])
    assert (claims["aud"], claims["nonce"]) == (client.client_id, params["nonce"])


def test_tls_client_pushes_with_its_certificate(app, browser, tls_certificate):
    tls = {"environ_base": {"SSL_CLIENT_CERT": tls_certificate}}
    verifier, challenge = pkce_pair()
    params = authorization_params(TLS_CLIENT, challenge)
    http = app.test_client()
    response = http.post(PAR, data=params, **tls)
    assert response.status_code == 201, response.get_json()

    callback = query_of(redeem(browser, TLS_CLIENT, response.get_json()["request_uri"]))
    assert callback["state"] == params["state"]
    tokens = http.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": TLS_CLIENT,
        },
        **tls,
    )
    assert tokens.status_code == 200, tokens.get_json()
    assert decode(tokens.get_json()["access_token"])["azp"] == TLS_CLIENT

    without_certificate = http.post(PAR, data=authorization_params(TLS_CLIENT))
    json_error(without_certificate, 401, "invalid_client")


def test_public_client_pushes_with_pkce(app, browser, clients):
    verifier, challenge = pkce_pair()
    params = authorization_params(clients.public.client_id, challenge)
    request_uri = pushed(app, clients.public, **params)

    callback = query_of(redeem(browser, clients.public.client_id, request_uri))
    tokens = exchange_code(app, clients.public, callback["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    assert decode(tokens.get_json()["id_token"])["nonce"] == params["nonce"]


def test_client_id_may_be_left_to_the_authentication(app, browser, clients):
    verifier, challenge = pkce_pair()
    params = authorization_params(clients.web.client_id, challenge, client_id=None)
    request_uri = pushed(app, clients.web, **params)
    callback = query_of(redeem(browser, clients.web.client_id, request_uri))
    assert exchange_code(app, clients.web, callback["code"], verifier).status_code == 200


def test_pushed_request_uses_the_sso_session_like_any_other(app, browser, clients):
    redeem(browser, "test-web", pushed(app, clients.web, **authorization_params("test-web")))
    again = authorization_params("test-web", prompt="none", response_mode="fragment")
    response = browser.http.get(
        AUTHORIZE,
        query_string={"client_id": "test-web", "request_uri": pushed(app, clients.web, **again)},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "#")
    answer = query_of(response.headers["Location"])
    assert answer["code"] and answer["state"] == again["state"]


def test_pushed_errors_after_validation_go_to_the_redirect_uri(app, browser, clients):
    # prompt=none without a session is only known at the authorization endpoint.
    params = authorization_params("test-web", prompt="none")
    response = browser.http.get(
        AUTHORIZE,
        query_string={"client_id": "test-web", "request_uri": pushed(app, clients.web, **params)},
    )
    assert response.status_code == 302
    answer = query_of(response.headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == (
        "login_required",
        params["state"],
        ISSUER,
    )


def test_another_instance_accepts_the_request_uri(app, make_app, clients):
    params = authorization_params("test-web")
    request_uri = pushed(app, clients.web, **params)
    other = make_app()
    callback = query_of(redeem(Browser(other), "test-web", request_uri))
    assert callback["state"] == params["state"]


# --- the request_uri at the authorization endpoint: once, in time, by its client ----------------
def test_request_uri_is_single_use(app, browser, clients):
    request_uri = pushed(app, clients.web, **authorization_params("test-web"))
    query = {"client_id": "test-web", "request_uri": request_uri}
    first = browser.http.get(AUTHORIZE, query_string=query)
    assert first.status_code == 302
    assert first.headers["Location"].startswith("/wallet/login/")
    french_page(Browser(app).http.get(AUTHORIZE, query_string=query))
    french_page(browser.http.get(AUTHORIZE, query_string=query))


def test_expired_request_uri_is_refused(app, browser, clients):
    request_uri = pushed(app, clients.web, **authorization_params("test-web"))
    with app.app_context():
        key = hash_secret(request_uri.removeprefix(REQUEST_URI_PREFIX), HASH_PURPOSE)
        row = db.session.get(PushedAuthorizationRequest, key)
        assert row.expires_at > now()
        row.expires_at = now() - timedelta(seconds=1)
        db.session.commit()
    query = {"client_id": "test-web", "request_uri": request_uri}
    french_page(browser.http.get(AUTHORIZE, query_string=query))


def test_request_uri_of_another_client_is_refused_and_not_spent(app, browser, clients):
    request_uri = pushed(app, clients.web, **authorization_params("test-web"))
    for query in (
        {"client_id": "test-post", "request_uri": request_uri},
        {"client_id": "unknown-client", "request_uri": request_uri},
        {"request_uri": request_uri},
        {"client_id": ["test-web", "test-web"], "request_uri": request_uri},
    ):
        french_page(browser.http.get(AUTHORIZE, query_string=query))
    own = browser.http.get(
        AUTHORIZE, query_string={"client_id": "test-web", "request_uri": request_uri}
    )
    assert own.status_code == 302 and own.headers["Location"].startswith("/wallet/login/")


@pytest.mark.parametrize(
    "request_uri",
    [
        REQUEST_URI_PREFIX + "never-issued",
        REQUEST_URI_PREFIX,
        REQUEST_URI_PREFIX + "x" * 5000,
    ],
    ids=["unknown", "empty", "huge"],
)
def test_unknown_request_uri_gets_french_page(browser, clients, request_uri):
    query = {"client_id": "test-web", "request_uri": request_uri}
    body = french_page(browser.http.get(AUTHORIZE, query_string=query))
    assert "request_uri" in body


# --- PAR errors: JSON, never a redirect ---------------------------------------------------------
@pytest.mark.parametrize(
    "overrides,error",
    [
        pytest.param(
            {"redirect_uri": "https://evil.example/callback"}, "invalid_request", id="foreign-uri"
        ),
        pytest.param({"redirect_uri": REDIRECT + "/other"}, "invalid_request", id="longer-path"),
        pytest.param({"scope": "openid unknown_scope"}, "invalid_scope", id="unknown-scope"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"response_type": None}, "invalid_request", id="no-response-type"),
        pytest.param({"nonce": ["n-1", "n-2"]}, "invalid_request", id="dup-nonce"),
        pytest.param({"state": ["s-1", "s-2"]}, "invalid_request", id="dup-state"),
        pytest.param({"scope": ["openid", "openid scope_all"]}, "invalid_request", id="dup-scope"),
        pytest.param(
            {"redirect_uri": [REDIRECT, REDIRECT]}, "invalid_request", id="dup-redirect-uri"
        ),
        pytest.param({"code_challenge_method": "S512"}, "invalid_request", id="unknown-method"),
        pytest.param({"code_challenge": "too-short"}, "invalid_request", id="short-challenge"),
        pytest.param({"prompt": "none login"}, "invalid_request", id="prompt-none-login"),
        pytest.param({"max_age": "-1"}, "invalid_request", id="max-age-negative"),
        pytest.param({"response_mode": "web_message"}, "invalid_request", id="unknown-mode"),
        pytest.param({"nonce": "n" * 2000}, "invalid_request", id="long-nonce"),
        pytest.param({"login_hint": "899700218896\x00"}, "invalid_request", id="nul-login-hint"),
        pytest.param(
            {"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request_object", id="jar-none"
        ),
        pytest.param(
            {"request_uri": REQUEST_URI_PREFIX + "abc"}, "invalid_request", id="request-uri"
        ),
        pytest.param({"client_id": "test-post"}, "invalid_request", id="other-client-id"),
    ],
)
def test_invalid_pushed_request_is_a_json_error(app, clients, overrides, error):
    before = stored_requests(app)
    json_error(push(app, clients.web, **authorization_params("test-web", **overrides)), 400, error)
    assert stored_requests(app) == before


def test_public_client_without_pkce_is_refused(app, clients):
    params = authorization_params("test-public", code_challenge_method=None)
    del params["code_challenge"]
    json_error(push(app, clients.public, **params), 400, "invalid_request")


def test_client_without_the_code_flow_is_unauthorized(app, machine):
    response = push(app, machine, **authorization_params(MACHINE_CLIENT))
    json_error(response, 400, "unauthorized_client")


@pytest.mark.parametrize(
    "headers,form",
    [
        (basic("test-web", "wrong-secret"), {}),
        ({}, {"client_secret": "wrong-secret"}),
        ({}, {}),  # a confidential client cannot push as a public one
        (basic("unknown-client", "secret"), {}),
    ],
    ids=["basic-wrong-secret", "post-wrong-secret", "no-credentials", "unknown-client"],
)
def test_failed_client_authentication_is_401(app, clients, headers, form):
    before = stored_requests(app)
    response = app.test_client().post(
        PAR, data={**authorization_params("test-web"), **form}, headers=headers
    )
    json_error(response, 401, "invalid_client")
    assert stored_requests(app) == before


def test_expired_client_assertion_is_refused(app, clients):
    assertion = clients.jwt.assertion(aud=PAR_URL, exp=1, iat=0)
    form = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    response = app.test_client().post(PAR, data={**authorization_params("test-jwt"), **form})
    json_error(response, 401, "invalid_client")


def test_form_encoding_and_one_authentication_method_are_required(app, clients):
    http = app.test_client()
    as_json = http.post(PAR, json=authorization_params("test-web"), headers=basic("x", "y"))
    json_error(as_json, 400, "invalid_request")
    both = http.post(
        PAR,
        data={**authorization_params("test-web"), "client_secret": clients.web.secret},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    json_error(both, 400, "invalid_request")


def test_get_on_the_par_endpoint_is_405(app):
    response = app.test_client().get(PAR, query_string=authorization_params("test-web"))
    json_error(response, 405, "invalid_request")


# --- discovery -----------------------------------------------------------------------------------
def test_discovery_advertises_par_without_requiring_it(app):
    for name in ("openid-configuration", "wallet-openid-configuration"):
        body = app.test_client().get(f"{ISSUER_PATH}/.well-known/{name}").get_json()
        assert (
            body["pushed_authorization_request_endpoint"]
            == f"{ISSUER}{PAR.removeprefix(ISSUER_PATH)}"
        )
        assert body["require_pushed_authorization_requests"] is False
        aliases = body["mtls_endpoint_aliases"]
        assert aliases["pushed_authorization_request_endpoint"] == f"https://localhost:8443{PAR}"
