"""CORS on the endpoints a browser application calls, with per-client web origins (Keycloak's
"Web origins"): published documents for any origin, the others for the client's origins only,
errors readable too, preflights permissive on the origin and strict on the method."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import (
    CERTS,
    ISSUER_PATH,
    LOGOUT,
    REDIRECT,
    REVOKE,
    TOKEN,
    USERINFO,
    RegisteredClient,
    decode,
    login_and_get_tokens,
    pkce_pair,
)

ALLOWED = "http://localhost:3000"  # origin of the test clients' redirect URI
STRANGER = "https://evil.example"
DISCOVERY_NAMES = ["openid-configuration", "wallet-openid-configuration"]


def allowed(response, origin: str) -> bool:
    assert "Origin" in response.headers.get("Vary", "")
    if "Access-Control-Allow-Origin" not in response.headers:
        return False
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    return True


def register(app, client_id: str, **fields) -> RegisteredClient:
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    spec = {
        "client_id": client_id,
        "token_endpoint_auth_method": "none",
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["http://localhost:3000/"],
        **fields,
    }
    with app.app_context():
        upsert_client(spec)
        db.session.commit()
    return RegisteredClient(client_id)


def bad_code(app, client_id: str, origin: str | None, **headers: str):
    if origin is not None:
        headers["Origin"] = origin
    data = {"grant_type": "authorization_code", "code": "nope", "client_id": client_id}
    data["redirect_uri"] = REDIRECT
    return app.test_client().post(TOKEN, data=data, headers=headers)


# --- published documents ----------------------------------------------------------------------
@pytest.mark.parametrize("name", DISCOVERY_NAMES)
def test_discovery_answers_any_origin(app, name):
    path = f"{ISSUER_PATH}/.well-known/{name}"
    response = app.test_client().get(path, headers={"Origin": STRANGER})
    assert response.status_code == 200
    assert allowed(response, STRANGER)


def test_jwks_answers_any_origin_and_varies_on_origin_without_one(app):
    http = app.test_client()
    assert allowed(
        http.get(CERTS, headers={"Origin": "http://localhost:5173"}), "http://localhost:5173"
    )
    plain = http.get(CERTS)
    assert not allowed(plain, "")  # no Origin, no CORS header, but caches still told to vary


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://localhost:3000/",
        "http://localhost:3000/callback",
        "HTTP://LOCALHOST:3000",
        "http://user@localhost:3000",
        "http://localhost:3000, https://evil.example",
        "*",
        "http://localhost:3000?x",
        "javascript:alert(1)",
        "",
    ],
)
def test_only_a_serialized_origin_is_ever_echoed(app, clients, origin):
    http = app.test_client()
    assert not allowed(http.get(CERTS, headers={"Origin": origin}), origin)
    assert not allowed(bad_code(app, clients.public.client_id, origin), origin)


def test_two_origin_headers_are_not_an_origin(app):
    headers = [("Origin", ALLOWED), ("Origin", STRANGER)]
    assert not allowed(app.test_client().get(CERTS, headers=headers), ALLOWED)


# --- token endpoint ---------------------------------------------------------------------------
def test_token_error_is_readable_from_the_clients_redirect_origin(app, clients):
    response = bad_code(app, clients.public.client_id, ALLOWED)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert allowed(response, ALLOWED)
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]


def test_token_from_an_unregistered_origin_gets_no_cors_header(app, clients):
    assert not allowed(bad_code(app, clients.public.client_id, STRANGER), STRANGER)


def test_token_for_an_unknown_client_gets_no_cors_header(app):
    assert not allowed(bad_code(app, "no-such-client", ALLOWED), ALLOWED)


def test_client_named_in_basic_header_decides(app, clients):
    raw = base64.b64encode(f"{clients.web.client_id}:wrong".encode()).decode()
    response = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}", "Origin": ALLOWED},
    )
    assert response.status_code == 401
    assert allowed(response, ALLOWED)


@pytest.mark.parametrize("client_id", ["a\x00b", "x" * 300, "é"])
def test_hostile_client_ids_answer_without_cors_and_without_a_500(app, client_id):
    response = bad_code(app, client_id, ALLOWED)
    assert response.status_code in (400, 401)
    assert not allowed(response, ALLOWED)


@pytest.mark.parametrize("path", [TOKEN, USERINFO, LOGOUT, REVOKE])
def test_a_body_too_large_is_a_413_not_a_500(app, path):
    data = {"client_id": "test-public", "padding": "x" * (128 * 1024)}
    response = app.test_client().post(path, data=data, headers={"Origin": ALLOWED})
    assert response.status_code == 413
    assert not allowed(response, ALLOWED)


def test_successful_exchange_carries_cors(app, browser, clients):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.public.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    response = app.test_client().post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT,
            "client_id": clients.public.client_id,
            "code_verifier": verifier,
        },
        headers={"Origin": ALLOWED},
    )
    assert response.status_code == 200
    assert allowed(response, ALLOWED)


def test_explicit_web_origins_replace_the_redirect_origins(app):
    register(app, "cors-explicit", web_origins=["https://spa.example:8443"])
    assert allowed(
        bad_code(app, "cors-explicit", "https://spa.example:8443"), "https://spa.example:8443"
    )
    assert not allowed(bad_code(app, "cors-explicit", ALLOWED), ALLOWED)


def test_plus_and_explicit_origins_combine(app):
    register(app, "cors-both", web_origins=["+", "https://spa.example"])
    assert allowed(bad_code(app, "cors-both", ALLOWED), ALLOWED)
    assert allowed(bad_code(app, "cors-both", "https://spa.example"), "https://spa.example")


def test_wildcard_allows_any_serialized_origin_but_not_null(app):
    register(app, "cors-any", web_origins=["*"])
    assert allowed(bad_code(app, "cors-any", STRANGER), STRANGER)
    assert not allowed(bad_code(app, "cors-any", "null"), "null")


def test_disabled_client_gets_no_cors_header(app):
    register(app, "cors-disabled", enabled=False)
    assert not allowed(bad_code(app, "cors-disabled", ALLOWED), ALLOWED)


def test_empty_web_origins_mean_no_browser_access(app):
    register(app, "cors-none", web_origins=[])
    assert not allowed(bad_code(app, "cors-none", ALLOWED), ALLOWED)


# --- userinfo, revocation, logout --------------------------------------------------------------
@pytest.fixture
def public_tokens(app, browser, clients) -> dict:
    return login_and_get_tokens(app, browser, clients.public)


def test_userinfo_follows_the_access_tokens_client(app, public_tokens):
    http = app.test_client()
    bearer = {"Authorization": f"Bearer {public_tokens['access_token']}"}
    good = http.get(USERINFO, headers={**bearer, "Origin": ALLOWED})
    assert good.status_code == 200 and allowed(good, ALLOWED)
    foreign = http.get(USERINFO, headers={**bearer, "Origin": STRANGER})
    assert foreign.status_code == 200 and not allowed(foreign, STRANGER)


def test_userinfo_error_without_a_known_token_is_readable_with_its_challenge(app):
    response = app.test_client().get(
        USERINFO, headers={"Authorization": "Bearer a.b.c", "Origin": STRANGER}
    )
    assert response.status_code == 401
    assert allowed(response, STRANGER)
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert exposed == ["WWW-Authenticate", "DPoP-Nonce"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revocation_carries_the_clients_origins(app, clients, public_tokens):
    data = {"token": public_tokens["refresh_token"], "client_id": clients.public.client_id}
    response = app.test_client().post(REVOKE, data=data, headers={"Origin": ALLOWED})
    assert response.status_code == 200 and allowed(response, ALLOWED)


def test_logout_carries_the_hinted_clients_origins(app, public_tokens):
    query = {
        "id_token_hint": public_tokens["id_token"],
        "post_logout_redirect_uri": "http://localhost:3000/",
    }
    http = app.test_client()
    response = http.get(LOGOUT, query_string=query, headers={"Origin": ALLOWED})
    assert response.status_code == 302 and allowed(response, ALLOWED)
    stranger = http.get(LOGOUT, query_string=query, headers={"Origin": STRANGER})
    assert not allowed(stranger, STRANGER)


@pytest.mark.parametrize(
    "hint",
    [
        "x",
        "a.b.c",
        "..",
        "eyJhbGciOiJub25lIn0.e30.",
        "W10.W10.W10",
        "e30.e30.e30",
        "\u00e9.\u00e9.x",
    ],
)
def test_logout_with_a_broken_hint_answers_without_cors_and_without_a_500(app, hint):
    response = app.test_client().get(
        LOGOUT, query_string={"id_token_hint": hint}, headers={"Origin": ALLOWED}
    )
    assert response.status_code == 400
    assert not allowed(response, ALLOWED)


# --- preflights -------------------------------------------------------------------------------
def preflight(app, path: str, origin: str, method: str, headers: str = "") -> object:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return app.test_client().options(path, headers=request_headers)


def test_token_preflight_is_answered_without_knowing_the_client(app):
    response = preflight(app, TOKEN, STRANGER, "POST", "content-type, dpop")
    assert response.status_code == 200
    assert allowed(response, STRANGER)
    assert response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    granted = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "dpop"} <= granted
    assert response.headers["Access-Control-Max-Age"] == "3600"


def test_userinfo_preflight_allows_get_with_authorization(app):
    response = preflight(app, USERINFO, ALLOWED, "GET", "authorization")
    assert allowed(response, ALLOWED)
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


@pytest.mark.parametrize("method", ["DELETE", "PUT", "GET", ""])
def test_preflight_for_a_method_the_endpoint_does_not_take_is_not_granted(app, method):
    response = preflight(app, TOKEN, ALLOWED, method)
    assert response.status_code == 200
    assert not allowed(response, ALLOWED)
    assert "Access-Control-Allow-Methods" not in response.headers


def test_preflight_from_null_is_not_granted(app):
    assert not allowed(preflight(app, CERTS, "null", "GET"), "null")


def test_wallet_pages_have_no_cors(app):
    response = app.test_client().get("/wallet/auth", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- registration -----------------------------------------------------------------------------
def test_web_origins_default_to_the_redirect_origins_and_round_trip(app):
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import client_to_dict, upsert_client
    from psc_idp.protocol.cors import allowed_origins

    with app.app_context():
        client, _ = upsert_client(
            {
                "client_id": "cors-default",
                "token_endpoint_auth_method": "none",
                "redirect_uris": [
                    "https://App.Example:443/cb",
                    "http://localhost:5173/callback",
                    "http://localhost:5173/other",
                    "http://[::1]:8000/cb",
                ],
            }
        )
        db.session.commit()
        exported = client_to_dict(client)
        assert exported["web_origins"] == ["+"]
        assert allowed_origins(client) == [
            "https://app.example",
            "http://localhost:5173",
            "http://[::1]:8000",
        ]
        _, changed = upsert_client(exported)
        assert not changed


def test_web_origins_are_stored_as_browsers_send_them(app):
    from psc_idp.protocol.clients import validate

    data = validate(
        {
            "client_id": "x",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [REDIRECT],
            "web_origins": ["HTTPS://SPA.Example:443", "http://localhost:8080", "*", "+"],
        }
    )
    assert data["web_origins"] == ["https://spa.example", "http://localhost:8080", "*", "+"]


@pytest.mark.parametrize(
    "value",
    [
        ["https://spa.example/"],
        ["https://spa.example/app"],
        ["https://spa.example?x=1"],
        ["https://spa.example#top"],
        ["https://user@spa.example"],
        ["null"],
        ["spa.example"],
        ["https://spa.example:99999"],
        ["https://spa\x00.example"],
        [""],
        [42],
        "https://spa.example",
        {"origin": "https://spa.example"},
    ],
)
def test_bad_web_origins_are_refused(app, value):
    from psc_idp.protocol.clients import InvalidClient, validate

    with pytest.raises(InvalidClient, match="web_origin"):
        validate(
            {
                "client_id": "x",
                "token_endpoint_auth_method": "none",
                "redirect_uris": [REDIRECT],
                "web_origins": value,
            }
        )


def test_existing_clients_get_the_redirect_origins_on_upgrade(tmp_path):
    from alembic import command

    from psc_idp.migrations import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        connection.execute(
            text(
                "INSERT INTO oauth_client (client_id, name, token_endpoint_auth_method,"
                " redirect_uris, post_logout_redirect_uris, grant_types, response_types,"
                " scopes, allow_plain_pkce, require_pkce,"
                " tls_client_certificate_bound_access_tokens,"
                " backchannel_token_delivery_mode, enabled, created_at) VALUES ('old', '', 'none',"
                " '[]', '[]', '[]', '[]', '[]', 0, 0, 0, 'poll', 1, '2026-01-01 00:00:00')"
            )
        )
        command.upgrade(config, "head")
        stored = connection.execute(text("SELECT web_origins FROM oauth_client")).scalar_one()
    engine.dispose()
    assert stored == '["+"]'


def test_web_origins_scope_puts_the_expanded_origins_in_the_access_token(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.public, scope="openid web-origins")
    assert decode(tokens["access_token"])["allowed-origins"] == [ALLOWED]
