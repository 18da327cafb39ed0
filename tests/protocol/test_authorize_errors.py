"""The authorization endpoint under malformed or hostile requests, at both of PSC's addresses.

Until the client and its redirect URI are known to be registered, the professional gets a French
page and is never redirected; afterwards every error goes back to the redirect URI as RFC 6749
§4.1.2.1 / OIDC Core §3.1.2.6 says, with ``state`` and ``iss`` (RFC 9207). Then the SSO
decisions: when a second authorization may skip the login and when it must not."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import (
    AUTHORIZE,
    ISSUER_PATH,
    REDIRECT,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
KEYCLOAK_AUTHORIZE = f"{ISSUER_PATH}/protocol/openid-connect/auth"
LONG = "a" * 10_000
VERIFIER, CHALLENGE = pkce_pair()


def french_page(response, status: int = 400) -> str:
    """A French HTML error page, never a redirect."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert '<html lang="fr">' in body
    return body


def request_params(client_id: str = "test-web", **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


@pytest.fixture(
    params=[
        (AUTHORIZE, "GET"),
        (AUTHORIZE, "POST"),
        (KEYCLOAK_AUTHORIZE, "GET"),
        (KEYCLOAK_AUTHORIZE, "POST"),
    ],
    ids=["wallet-get", "wallet-post", "keycloak-get", "keycloak-post"],
)
def ask(request, browser, clients):
    """Send an authorization request at one of the two endpoints, by GET or form POST."""
    path, method = request.param

    def call(**params):
        if method == "GET":
            return browser.http.get(path, query_string=params)
        return browser.http.post(path, data=params)

    return call


def callback_error(response, mode: str = "query") -> dict[str, str]:
    """The error parameters delivered to the registered redirect URI."""
    if mode == "form_post":
        assert response.status_code == 200 and response.mimetype == "text/html"
        body = response.get_data(as_text=True)
        assert f'action="{REDIRECT}"' in body
        return {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', body)}
    assert response.status_code == 302
    location = response.headers["Location"]
    separator = "#" if mode == "fragment" else "?"
    assert location.startswith(REDIRECT + separator)
    return query_of(location)


# --- before the redirect URI is trusted: a French page -----------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": None},
        {"client_id": "unknown-client"},
        {"client_id": LONG},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": REDIRECT + "/other"},
        {"redirect_uri": REDIRECT + "?next=https://evil.example"},
        {"redirect_uri": REDIRECT.upper()},
        {"redirect_uri": REDIRECT + '"onmouseover="alert(1)'},
        {"redirect_uri": REDIRECT + "\\..\\evil"},
        {"redirect_uri": REDIRECT + "<script>alert(1)</script>"},
        {"redirect_uri": "javascript:alert(1)"},
        {"redirect_uri": REDIRECT + "/" + LONG},
        {"redirect_uri": "https://evil.example/callback", "response_type": "token"},
        {"redirect_uri": "https://evil.example/callback", "scope": "openid nope"},
    ],
    ids=[
        "missing-client",
        "unknown-client",
        "huge-client",
        "foreign-uri",
        "longer-path",
        "added-query",
        "other-case",
        "quote",
        "backslash",
        "angle-bracket",
        "javascript",
        "huge-uri",
        "foreign-uri-and-bad-type",
        "foreign-uri-and-bad-scope",
    ],
)
def test_untrusted_client_or_redirect_uri_gets_french_page(ask, overrides):
    body = french_page(ask(**request_params(**overrides)))
    assert "Demande de connexion invalide" in body
    assert "<script>alert(1)" not in body and 'href="javascript' not in body
    # Development mode shows the received redirect_uri, escaped, in its own box; production
    # echoes nothing (tests/wallet/test_redirect_check.py).
    assert "evil.example" not in body.split('class="redirect-check"')[0]


def test_missing_redirect_uri_with_several_registered_gets_french_page(app, ask):
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    with app.app_context():
        upsert_client(
            {
                "client_id": "test-authz-two-uris",
                "secret": "s" * 32,
                "redirect_uris": [REDIRECT, "http://localhost:3000/other"],
            }
        )
        db.session.commit()
    french_page(ask(**request_params("test-authz-two-uris", redirect_uri=None)))


# --- once the redirect URI is trusted: RFC 6749 §4.1.2.1 at the redirect URI -------------------
@pytest.mark.parametrize(
    "overrides,error",
    [
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"response_type": "code id_token"}, "unsupported_response_type", id="hybrid"),
        pytest.param({"response_type": None}, "invalid_request", id="no-response-type"),
        pytest.param({"response_type": "cödé"}, "unsupported_response_type", id="type-non-ascii"),
        pytest.param({"response_type": 'code"\\'}, "unsupported_response_type", id="type-quote"),
        pytest.param({"scope": "openid unknown_scope"}, "invalid_scope", id="unknown-scope"),
        pytest.param({"response_type": ["code", "code"]}, "invalid_request", id="dup-type"),
        pytest.param({"scope": ["openid", "openid scope_all"]}, "invalid_request", id="dup-scope"),
        pytest.param({"nonce": ["n-1", "n-2"]}, "invalid_request", id="dup-nonce"),
        pytest.param(
            {"code_challenge": ["x" * 43, CHALLENGE]}, "invalid_request", id="dup-challenge"
        ),
        pytest.param({"code_challenge": "too-short"}, "invalid_request", id="short-challenge"),
        pytest.param(
            {"code_challenge": "~" * 42 + "!"}, "invalid_request", id="bad-char-challenge"
        ),
        pytest.param({"code_challenge": "a" * 129}, "invalid_request", id="long-challenge"),
        pytest.param({"code_challenge_method": "S512"}, "invalid_request", id="unknown-method"),
        pytest.param({"code_challenge": None}, "invalid_request", id="method-without-challenge"),
        pytest.param({"prompt": "none login"}, "invalid_request", id="prompt-none-login"),
        pytest.param({"prompt": "none consent"}, "invalid_request", id="prompt-none-consent"),
        pytest.param({"prompt": "sometimes"}, "invalid_request", id="prompt-unknown"),
        pytest.param({"prompt": "none"}, "login_required", id="prompt-none-no-session"),
        pytest.param({"max_age": "ten"}, "invalid_request", id="max-age-word"),
        pytest.param({"max_age": "-1"}, "invalid_request", id="max-age-negative"),
        pytest.param({"max_age": "1e3"}, "invalid_request", id="max-age-exponent"),
        pytest.param({"max_age": "9" * 40}, "invalid_request", id="max-age-huge"),
        pytest.param(
            {"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request_object", id="request-none"
        ),
        pytest.param(
            {"request_uri": "https://evil.example/request.jwt"},
            "invalid_request_uri",
            id="unregistered-request-uri",
        ),
        pytest.param({"response_mode": "web_message"}, "invalid_request", id="unknown-mode"),
        pytest.param({"nonce": "n" * 2000}, "invalid_request", id="long-nonce"),
        pytest.param({"login_hint": "1" * 300}, "invalid_request", id="long-login-hint"),
        pytest.param({"é" * 50: "v" * 5000}, "invalid_request", id="long-non-ascii-name"),
    ],
)
def test_error_goes_back_to_redirect_uri_with_state_and_iss(app, ask, overrides, error):
    from psc_idp.extensions import db
    from psc_idp.login.models import LoginTransaction

    def pending() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(LoginTransaction))

    before = pending()
    answer = callback_error(ask(**request_params(**overrides)))
    assert answer["error"] == error
    assert answer["state"] == "st-1"
    assert answer["iss"] == ISSUER
    assert "code" not in answer
    assert pending() == before  # a refused request leaves no login behind


def test_public_client_without_pkce_is_refused(ask):
    params = request_params("test-public", code_challenge=None, code_challenge_method=None)
    answer = callback_error(ask(**params))
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_request", "st-1", ISSUER)


@pytest.mark.parametrize("method", ["plain", None], ids=["explicit-plain", "default-plain"])
def test_plain_pkce_refused_unless_client_allows_it(ask, method):
    params = request_params("test-public", code_challenge="p" * 43, code_challenge_method=method)
    assert callback_error(ask(**params))["error"] == "invalid_request"
    allowed = ask(**{**params, "client_id": "test-plain"})
    assert allowed.status_code == 302
    assert allowed.headers["Location"].startswith("/wallet/login/")


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_response_mode_is_honoured_for_errors(ask, mode):
    response = ask(**request_params(scope="openid unknown_scope", response_mode=mode))
    answer = callback_error(response, mode)
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_scope", "st-1", ISSUER)


def test_form_post_error_escapes_hostile_state(ask):
    hostile = '"><script>alert(1)</script>'
    response = ask(**request_params(scope="openid nope", response_mode="form_post", state=hostile))
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert callback_error(response, "form_post")["state"] == hostile


def test_huge_state_is_refused_and_returned_unchanged(ask):
    state = "s" * 3000
    answer = callback_error(ask(**request_params(state=state)))
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_request", state, ISSUER)


def test_cancelled_login_returns_access_denied(browser, clients):
    start = browser.authorize(
        "test-web", state="st-c", code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    cancelled = browser.http.get(start.headers["Location"] + "/cancel")
    answer = callback_error(browser.http.get(cancelled.headers["Location"]))
    assert (answer["error"], answer["state"], answer["iss"]) == ("access_denied", "st-c", ISSUER)


# --- SSO: when the session may answer, and when it must not ------------------------------------
def login(browser, **params) -> dict[str, str]:
    return browser.login(
        "test-web", code_challenge=CHALLENGE, code_challenge_method="S256", **params
    )


def again(browser, **params):
    return browser.authorize(
        "test-web", code_challenge=CHALLENGE, code_challenge_method="S256", **params
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"prompt": "none"}, {"max_age": "3600"}, {"acr_values": "eidas1"}],
    ids=["plain", "prompt-none", "max-age", "same-acr"],
)
def test_second_authorization_uses_the_session(browser, clients, params):
    first = login(browser)
    response = again(browser, state="st-2", **params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    answer = query_of(response.headers["Location"])
    assert answer["code"] and answer["state"] == "st-2" and answer["iss"] == ISSUER
    assert answer["session_state"] == first["session_state"]


@pytest.mark.parametrize(
    "params",
    [{"prompt": "login"}, {"max_age": "0"}, {"acr_values": "eidas3"}],
    ids=["prompt-login", "max-age-0", "higher-acr"],
)
def test_session_is_not_enough(browser, clients, params):
    login(browser)
    response = again(browser, **params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/wallet/login/")


def test_prompt_none_with_insufficient_session_is_login_required(browser, clients):
    login(browser)
    answer = callback_error(again(browser, state="st-n", prompt="none", acr_values="eidas3"))
    assert (answer["error"], answer["state"], answer["iss"]) == ("login_required", "st-n", ISSUER)


def test_higher_acr_after_mobile_login_refuses_downgrade_then_accepts_card(app, browser, clients):
    assert decode_acr(app, clients, login(browser)) == "eidas1"
    verifier, challenge = pkce_pair()
    start = browser.authorize(
        "test-web", acr_values="eidas3", code_challenge=challenge, code_challenge_method="S256"
    )
    login_page = start.headers["Location"]
    assert login_page.startswith("/wallet/login/")

    refused = browser.pick_identity(login_page, auth_mode="MOBILE")
    body = french_page(refused)
    assert "niveau plus élevé" in body

    accepted = browser.pick_identity(login_page, auth_mode="CARD")
    assert accepted.status_code == 302
    callback = query_of(browser.http.get(accepted.headers["Location"]).headers["Location"])
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["acr"], claims["authMode"]) == ("eidas3", "CARD")


def decode_acr(app, clients, callback: dict[str, str]) -> str:
    """``acr`` of the ID token the callback's code yields (issued with ``CHALLENGE``)."""
    response = exchange_code(app, clients.web, callback["code"], VERIFIER)
    return decode(response.get_json()["id_token"])["acr"]
