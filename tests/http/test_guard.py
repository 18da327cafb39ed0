"""The request-wide guard: NUL and control characters, deep JSON and deep JWS never reach a
view, a database or a JOSE library; each is a 400 in the caller's language (RFC JSON or a
French page)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    AUTHORIZE,
    INTROSPECT,
    LOGOUT,
    OIDC,
    REDIRECT,
    REVOKE,
    TOKEN,
    USERINFO,
    basic,
    pkce_pair,
)
from tests.http.hostile import DEEP_JSON, DEEP_JWS, DEEP_PAYLOAD_JWS, unsigned_jws
from tests.means.ecps.helpers import API, BASE, activate_by_contact

CIBA = f"{OIDC}/ext/ciba/auth"
PAR = f"{OIDC}/ext/par/request"
NURSE = "899700100490"


def json_refusal(response) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid_request", body
    return body


def page_refusal(response) -> str:
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Requête invalide" in body and 'lang="fr"' in body
    return body


# --- NUL, on every kind of input ----------------------------------------------------------------
@pytest.mark.parametrize(
    "data,headers",
    [
        ({"client_id": "test-post\x00", "client_secret": "x"}, None),
        ({"client_id": "test-public\x00"}, None),
        ({}, basic("test-web\x00", "x")),
        ({}, basic("test-web%00", "x")),  # form-encoded inside Basic (RFC 6749 §2.3.1)
        ({"grant_type\x00": "x"}, None),
    ],
    ids=["post", "none", "basic", "basic-encoded", "in-a-name"],
)
def test_nul_at_the_token_endpoint_is_invalid_request(app, data, headers):
    form = {"grant_type": "client_credentials", **data}
    json_refusal(app.test_client().post(TOKEN, data=form, headers=headers))


def test_nul_in_a_client_assertion_claim_is_refused(app, clients):
    assertion = unsigned_jws({"alg": "RS256"}, {"sub": "test-jwt\x00", "iss": "test-jwt\x00"})
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    json_refusal(app.test_client().post(TOKEN, data=form))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "overrides",
    [{"client_id": "test-web\x00"}, {"login_hint": "899700218896\x00"}, {"nonce": "n\x00"}],
    ids=["client", "login-hint", "nonce"],
)
def test_nul_at_authorize_is_a_french_page_and_no_login(app, clients, method, overrides):
    from sqlalchemy import func, select

    from psc_idp.extensions import db
    from psc_idp.login.models import LoginTransaction

    def pending() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(LoginTransaction))

    params = {
        "response_type": "code",
        "client_id": "test-web",
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "st-1",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **overrides,
    }
    before = pending()
    http = app.test_client()
    for path in (AUTHORIZE, f"{OIDC}/auth"):
        if method == "GET":
            response = http.get(path, query_string=params)
        else:
            response = http.post(path, data=params)
        page_refusal(response)
    assert pending() == before


@pytest.mark.parametrize(
    "path",
    [
        "/wallet/login/nul%00",
        "/wallet/login/nul%00/dev",
        "/wallet/login/nul%00/cancel",
        "/wallet/auth/resume/nul%00",
        "/wallet/login/tab%09",
        "/dev/outbox?national_id=%00",
        f"{AUTHORIZE}?client_id=test-web&request_uri=urn:ietf:params:oauth:request_uri:a%00b",
        f"{LOGOUT}?client_id=test-web%00",
    ],
)
def test_nul_or_control_in_a_page_request_is_a_french_page(app, path):
    page_refusal(app.test_client().get(path))


def test_nul_in_an_account_form_is_a_french_page(app):
    http = app.test_client()
    page_refusal(http.post("/wallet/account/keys/a%00b/revoke", data={"csrf_token": "x"}))
    page_refusal(http.post("/wallet/account/devices/a%00b/rename", data={"name": "x"}))
    page_refusal(http.post("/wallet/account/devices/abc/rename", data={"name": "Té\x00l"}))


def test_nul_in_json_for_a_wallet_api_is_json(app):
    body = {"ceremony": "abc\x00def", "credential": {}}
    json_refusal(app.test_client().post("/wallet/account/keys/register", json=body))


def test_nul_on_the_device_api_is_json(app):
    http = app.test_client()
    json_refusal(http.post(f"{API}/activations", json={"national_id": "8997\x00"}))
    json_refusal(http.post(f"{API}/activations/act%00/complete", json={}))
    json_refusal(http.post(f"{API}/requests/push%00/decision", json={"decision": "x"}))
    kid_nul = unsigned_jws({"alg": "ES256", "typ": "ecps-device+jwt", "kid": "dev\x00"}, {})
    for path in ("/device", "/requests"):
        json_refusal(http.get(API + path, headers={"Authorization": f"ECPS-Device {kid_nul}"}))
    json_refusal(http.get(f"{API}/device", headers={"Authorization": "ECPS-Device a\x00b"}))


# --- nesting: JSON bodies and JWS -----------------------------------------------------------------
def test_deep_json_on_the_device_api_is_json_400(app):
    http = app.test_client()
    for path in ("/activations", "/activations/abc/complete", "/activations/card"):
        response = http.post(API + path, data=DEEP_JSON, content_type="application/json")
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "error" in response.get_json()


@pytest.mark.parametrize("token", [DEEP_JWS, DEEP_PAYLOAD_JWS], ids=["header", "payload"])
def test_deep_jws_is_refused_wherever_a_token_arrives(app, clients, token):
    http = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    json_refusal(http.get(USERINFO, headers=bearer))
    json_refusal(http.post(USERINFO, headers=bearer))
    auth = basic(clients.web.client_id, clients.web.secret)
    json_refusal(http.post(INTROSPECT, data={"token": token}, headers=auth))
    json_refusal(http.post(REVOKE, data={"token": token}, headers=auth))
    json_refusal(http.post(CIBA, data={"id_token_hint": token, "scope": "openid"}, headers=auth))
    json_refusal(http.post(TOKEN, data={"client_assertion": token, "grant_type": "x"}))
    json_refusal(http.get(f"{API}/device", headers={"Authorization": f"ECPS-Device {token}"}))
    json_refusal(http.post(PAR, data={"client_id": "test-web", "request": token}))
    page_refusal(http.get(LOGOUT, query_string={"id_token_hint": token}))


def test_a_jws_like_value_that_is_not_deep_json_passes(app):
    # Host names and malformed tokens have the shape of a JWS; only deep JSON is refused here.
    response = app.test_client().get(USERINFO, headers={"Authorization": "Bearer www.a-b.fr"})
    assert response.status_code == 401


# --- device JWS: NumericDate claims must be integers ------------------------------------------
def _device_call(phone, **claims):
    import time

    now = int(time.time())
    body = {"iss": phone.device.device_id, "htm": "GET", "htu": f"{BASE}{API}/device"}
    token = phone.device._sign({**body, "exp": now + 60, **claims}, "ecps-device+jwt")
    return phone.call("GET", "/device", token=token)


@pytest.mark.parametrize("kind", ["iat-string", "exp-float"])
def test_device_call_with_non_integer_times_is_401(app, kind):
    import time

    phone = activate_by_contact(app, NURSE)
    now = int(time.time())
    claims = {"iat": str(now)} if kind == "iat-string" else {"exp": now + 60.5}
    response = _device_call(phone, **claims)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_device_token"
    assert _device_call(phone).status_code == 200  # the same call with integers


def test_decision_with_a_string_iat_is_refused(app):
    import time

    from psc_idp.extensions import db
    from psc_idp.means.ecps import pushes

    phone = activate_by_contact(app, NURSE, pin="2468")
    with app.app_context():
        push = pushes.create_push(NURSE, "login", "test-web", "Service de test", "31")
        db.session.commit()
        push_id = push.id
    request = next(r for r in phone.pending() if r["id"] == push_id)
    claims = {"request_id": push_id, "decision": "approve", "binding_message": "31"}
    signed = {**claims, "pin": "2468", "iat": str(int(time.time()))}
    token = phone.device._sign(signed, "ecps-decision+jwt")
    answer = phone.call("POST", f"/requests/{push_id}/decision", json={"decision": token})
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    assert phone.decide(request, "approve", pin="2468").get_json()["status"] == "approved"


# --- a logged-in professional's account -----------------------------------------------------------
def test_nul_in_my_own_device_name_or_id_is_a_french_page(app):
    import re

    from tests.means.ecps.test_account_and_outbox import _log_in_to_account

    phone = activate_by_contact(app, "899700100565")
    browser = _log_in_to_account(app, "899700100565")
    html = browser.http.get("/wallet/account").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    device = f"/wallet/account/devices/{phone.device.device_id}"
    page_refusal(browser.http.post(f"{device}/rename", data={"csrf_token": csrf, "name": "a\x00"}))
    odd = "/wallet/account/devices/a%00/rename"
    page_refusal(browser.http.post(odd, data={"csrf_token": csrf, "name": "x"}))
    renamed = browser.http.post(f"{device}/rename", data={"csrf_token": csrf, "name": "Mon tél"})
    assert renamed.status_code == 302
