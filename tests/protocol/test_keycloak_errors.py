"""Answers in Keycloak's words (what SP libraries log, what integrators search for), secret clients
authenticating with Basic or the form body at every endpoint, and ``acr_values`` as a voluntary
claim."""

from __future__ import annotations

import pytest

from tests.helpers import (
    INTROSPECT,
    OIDC,
    REDIRECT,
    REVOKE,
    TOKEN,
    basic,
    decode,
    exchange_code,
    login_and_get_tokens,
    pkce_pair,
    query_of,
    token_call,
)

PAR = f"{OIDC}/ext/par/request"
INVALID_CLIENT = "Invalid client or Invalid client credentials"


def answer(response, status: int, error: str, description: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json() == {"error": error, "error_description": description}


def par_params() -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "test-web",
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }


def code_for(browser, **params) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    callback = browser.login(
        "test-web", code_challenge=challenge, code_challenge_method="S256", **params
    )
    return callback["code"], verifier


# --- client authentication ---------------------------------------------------------------------
@pytest.mark.parametrize("where", ["basic", "body"])
@pytest.mark.parametrize("client_id", ["test-web", "no-such-client"])
def test_bad_client_secret_in_keycloaks_words(app, where, client_id):
    form = {"grant_type": "client_credentials"}
    headers = basic(client_id, "wrong") if where == "basic" else {}
    if where == "body":
        form.update(client_id=client_id, client_secret="wrong")
    for endpoint, data in (
        (TOKEN, form),
        (INTROSPECT, {**form, "token": "x"}),
        (REVOKE, {**form, "token": "x"}),
        (PAR, {**form, **par_params()}),
    ):
        data = {k: v for k, v in data.items() if not (endpoint != TOKEN and k == "grant_type")}
        if where == "body":
            data["client_id"] = client_id
        response = app.test_client().post(endpoint, data=data, headers=headers)
        answer(response, 401, "invalid_client", INVALID_CLIENT)


@pytest.mark.parametrize("name", ["web", "post"])
def test_secret_clients_use_basic_or_the_body_everywhere(app, browser, clients, name):
    """Registered as client_secret_basic or _post, a secret client may use either (Keycloak)."""
    client = getattr(clients, name)
    tokens = login_and_get_tokens(app, browser, clients.web)
    ways = {
        "basic": (basic(client.client_id, client.secret), {}),
        "body": ({}, {"client_id": client.client_id, "client_secret": client.secret}),
    }
    http = app.test_client()
    for headers, form in ways.values():
        granted = http.post(
            TOKEN, data={"grant_type": "client_credentials", **form}, headers=headers
        )
        assert granted.status_code == 200, granted.get_data(as_text=True)
        introspected = http.post(
            INTROSPECT, data={"token": tokens["access_token"], **form}, headers=headers
        )
        assert introspected.get_json()["active"] is True
        pushed = http.post(
            PAR, data={**par_params(), **form, "client_id": client.client_id}, headers=headers
        )
        assert pushed.status_code == 201, pushed.get_data(as_text=True)
    for headers, form in ways.values():
        own = token_call(app, client, grant_type="client_credentials").get_json()
        revoked = http.post(REVOKE, data={"token": own["access_token"], **form}, headers=headers)
        assert revoked.status_code == 200


# --- grants ------------------------------------------------------------------------------------
def test_unknown_and_replayed_code(app, browser, clients):
    answer(
        exchange_code(app, clients.web, "no-such-code", "v" * 43),
        400,
        "invalid_grant",
        "Code not valid",
    )
    code, verifier = code_for(browser)
    assert exchange_code(app, clients.web, code, verifier).status_code == 200
    answer(exchange_code(app, clients.web, code, verifier), 400, "invalid_grant", "Code not valid")


def test_redirect_uri_mismatch(app, browser, clients):
    code, verifier = code_for(browser)
    response = exchange_code(app, clients.web, code, verifier, redirect_uri=REDIRECT + "/x")
    answer(response, 400, "invalid_grant", "Incorrect redirect_uri")


def test_refresh_token_errors(app, browser, clients):
    def refresh(value: str):
        return token_call(app, clients.web, grant_type="refresh_token", refresh_token=value)

    answer(refresh("not-a-token"), 400, "invalid_grant", "Invalid refresh token")
    first = login_and_get_tokens(app, browser, clients.web)
    second = refresh(first["refresh_token"]).get_json()
    reuse = "Maximum allowed refresh token reuse exceeded"
    answer(refresh(first["refresh_token"]), 400, "invalid_grant", reuse)
    answer(refresh(second["refresh_token"]), 400, "invalid_grant", "Session not active")


def test_grant_type_errors(app, clients):
    auth = basic(clients.web.client_id, clients.web.secret)
    http = app.test_client()
    answer(
        http.post(TOKEN, data={"grant_type": "password"}, headers=auth),
        400,
        "unsupported_grant_type",
        "Unsupported grant_type",
    )
    answer(
        http.post(TOKEN, data={"scope": "openid"}, headers=auth),
        400,
        "invalid_request",
        "Missing form parameter: grant_type",
    )


def test_revocation_answers_an_empty_200(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    auth = basic(clients.web.client_id, clients.web.secret)
    http = app.test_client()
    for token in (tokens["refresh_token"], "unknown-token"):
        response = http.post(REVOKE, data={"token": token}, headers=auth)
        assert response.status_code == 200 and response.get_data() == b""
        assert response.headers["Cache-Control"] == "no-store"


# --- acr_values ----------------------------------------------------------------------------------
def test_unknown_acr_values_are_voluntary(app, browser, clients):
    code, verifier = code_for(browser, acr_values="loa-high urn:other")
    tokens = exchange_code(app, clients.web, code, verifier).get_json()
    assert decode(tokens["id_token"])["acr"] == "eidas1"


def test_a_known_value_among_unknown_ones_still_counts(app, browser, clients):
    code_for(browser)  # an e-CPS session: eidas1
    verifier, challenge = pkce_pair()
    response = browser.authorize(
        "test-web",
        prompt="none",
        acr_values="loa-high eidas3",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert query_of(response.headers["Location"])["error"] == "login_required"
    response = browser.authorize(
        "test-web",
        prompt="none",
        acr_values="loa-high",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert "code" in query_of(response.headers["Location"])


# --- CIBA ----------------------------------------------------------------------------------------
CIBA_AUTH = f"{OIDC}/ext/ciba/auth"
NURSE = "899700100490"


@pytest.fixture(scope="module")
def dpi_post(app) -> tuple[str, str]:
    """A DPI registered with client_secret_post."""
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    secret = "dpi-post-secret-" + "x" * 20
    with app.app_context():
        upsert_client(
            {
                "client_id": "dpi-post",
                "secret": secret,
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["urn:openid:params:grant-type:ciba"],
            }
        )
        db.session.commit()
    return "dpi-post", secret


@pytest.mark.parametrize("where", ["basic", "body"])
def test_ciba_accepts_basic_or_body_and_unknown_acr_values(app, dpi_post, where):
    client_id, secret = dpi_post
    form = {"scope": "openid scope_all", "login_hint": NURSE, "acr_values": "loa-x eidas1"}
    form.update(channel="CARD", binding_message="kc-words")  # CARD: no e-CPS device needed
    headers = basic(client_id, secret) if where == "basic" else {}
    if where == "body":
        form.update(client_id=client_id, client_secret=secret)
    response = app.test_client().post(CIBA_AUTH, data=form, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["auth_req_id"]
    form.pop("client_secret", None)
    bad = app.test_client().post(CIBA_AUTH, data=form, headers=basic(client_id, "wrong"))
    answer(bad, 401, "invalid_client", INVALID_CLIENT)
