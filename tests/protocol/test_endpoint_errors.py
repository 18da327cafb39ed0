"""Every endpoint beside authorization and token under malformed or hostile requests: userinfo
(RFC 6750 §3.1), introspection (RFC 7662), revocation (RFC 7009), RP-initiated logout, the
published documents, unknown paths, and the wallet's login pages."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import (
    CERTS,
    INTROSPECT,
    ISSUER_PATH,
    LOGOUT,
    REVOKE,
    USERINFO,
    RegisteredClient,
    basic,
    decode,
    exchange_code,
    login_and_get_tokens,
    pkce_pair,
    query_of,
    token_call,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
POST_LOGOUT = "http://localhost:3000/"
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def french_page(response, status: int = 400) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert '<html lang="fr">' in body
    return body


def json_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    return body


def bearer_error(response, status: int, error: str) -> None:
    json_error(response, status, error)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="esante-wallet"') and f'error="{error}"' in challenge


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def introspect(app, token: str, client: RegisteredClient | None = None, **extra: str):
    headers = basic(client.client_id, client.secret) if client else {}
    return app.test_client().post(INTROSPECT, data={"token": token, **extra}, headers=headers)


def revoke(app, client: RegisteredClient, token: str, **extra: str):
    headers, form = client.auth()
    return app.test_client().post(REVOKE, data={**form, "token": token, **extra}, headers=headers)


def active(app, clients, token: str) -> bool:
    response = introspect(app, token, clients.web)
    assert response.status_code == 200
    return response.get_json()["active"]


def forged(app, token: str, key=None, kid: str | None = None, **changes) -> str:
    """``token`` with ``changes``, signed by the realm's key (or by ``key`` under ``kid``)."""
    from psc_idp.protocol.tokens import sign

    claims = {**decode(token), **changes}
    if key is not None:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
    with app.app_context():
        return sign(claims, "RS256")


@pytest.fixture
def tokens(app, browser, clients) -> dict:
    return login_and_get_tokens(app, browser, clients.web)


# --- userinfo --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer " + "x" * 9000},
    ],
    ids=[
        "none",
        "empty-bearer",
        "blank-bearer",
        "basic",
        "other-scheme",
        "garbage",
        "bad-jws",
        "huge",
    ],
)
def test_userinfo_without_a_usable_token(app, headers):
    bearer_error(app.test_client().get(USERINFO, headers=headers), 401, "invalid_token")


def test_userinfo_with_token_in_header_and_form_is_invalid_request(app, tokens):
    response = app.test_client().post(
        USERINFO,
        data={"access_token": tokens["access_token"]},
        headers=bearer(tokens["access_token"]),
    )
    bearer_error(response, 400, "invalid_request")


def test_userinfo_with_two_tokens_in_form_is_invalid_request(app, tokens):
    data = {"access_token": [tokens["access_token"], tokens["access_token"]]}
    bearer_error(app.test_client().post(USERINFO, data=data), 400, "invalid_request")


@pytest.mark.parametrize("how", ["get-header", "post-header", "post-form"])
def test_userinfo_accepts_each_way_of_presenting_the_token(app, tokens, how):
    http = app.test_client()
    if how == "get-header":
        response = http.get(USERINFO, headers=bearer(tokens["access_token"]))
    elif how == "post-header":
        response = http.post(USERINFO, headers=bearer(tokens["access_token"]))
    else:
        response = http.post(USERINFO, data={"access_token": tokens["access_token"]})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()["sub"] == decode(tokens["id_token"])["sub"]


def test_userinfo_refuses_put(app, tokens):
    response = app.test_client().put(USERINFO, headers=bearer(tokens["access_token"]))
    json_error(response, 405, "invalid_request")
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))


def test_userinfo_refuses_an_expired_token(app, tokens):
    now = int(time.time())
    expired = forged(app, tokens["access_token"], iat=now - 300, exp=now - 180)
    bearer_error(app.test_client().get(USERINFO, headers=bearer(expired)), 401, "invalid_token")


@pytest.mark.parametrize(
    "change",
    ["other-key-same-kid", "other-key-unknown-kid", "other-issuer", "id-token", "alg-none"],
)
def test_userinfo_refuses_a_token_it_did_not_issue(app, tokens, change):
    access = tokens["access_token"]
    kid = jwt.get_unverified_header(access)["kid"]
    if change == "other-key-same-kid":
        token = forged(app, access, key=OTHER_KEY, kid=kid)
    elif change == "other-key-unknown-kid":
        token = forged(app, access, key=OTHER_KEY, kid="unknown-kid")
    elif change == "other-issuer":
        token = forged(app, access, iss="https://evil.example/auth/realms/esante-wallet")
    elif change == "id-token":
        token = tokens["id_token"]
    else:
        token = jwt.encode(decode(access), None, algorithm="none", headers={"kid": kid})
    bearer_error(app.test_client().get(USERINFO, headers=bearer(token)), 401, "invalid_token")


def test_userinfo_refuses_revoked_tokens(app, clients, tokens):
    assert revoke(app, clients.web, tokens["access_token"]).status_code == 200
    response = app.test_client().get(USERINFO, headers=bearer(tokens["access_token"]))
    bearer_error(response, 401, "invalid_token")


def test_userinfo_refuses_tokens_of_a_revoked_grant(app, clients, tokens):
    assert revoke(app, clients.web, tokens["refresh_token"]).status_code == 200
    response = app.test_client().get(USERINFO, headers=bearer(tokens["access_token"]))
    bearer_error(response, 401, "invalid_token")


def test_tokens_of_a_disabled_client_stop_working(app, browser, clients):
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client
    from psc_idp.protocol.models import Client

    spec = {
        "client_id": "test-endpoint-disabled",
        "secret": "d" * 32,
        "redirect_uris": ["http://localhost:3000/callback"],
    }
    with app.app_context():
        upsert_client(dict(spec))
        db.session.commit()
    client = RegisteredClient(spec["client_id"], spec["secret"])
    tokens = login_and_get_tokens(app, browser, client)
    with app.app_context():
        db.session.get(Client, spec["client_id"]).enabled = False
        db.session.commit()
    response = app.test_client().get(USERINFO, headers=bearer(tokens["access_token"]))
    bearer_error(response, 401, "invalid_token")
    assert not active(app, clients, tokens["access_token"])
    assert not active(app, clients, tokens["refresh_token"])


def test_userinfo_needs_the_openid_scope(app, browser, clients):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        "test-web", scope="scope_all", code_challenge=challenge, code_challenge_method="S256"
    )
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    assert "openid" not in tokens["scope"].split()
    response = app.test_client().get(USERINFO, headers=bearer(tokens["access_token"]))
    bearer_error(response, 403, "insufficient_scope")
    service = token_call(app, clients.web, grant_type="client_credentials").get_json()
    response = app.test_client().get(USERINFO, headers=bearer(service["access_token"]))
    bearer_error(response, 403, "insufficient_scope")


def test_signed_userinfo_is_a_verifiable_jwt(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.signed)
    response = app.test_client().get(USERINFO, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    body = response.get_data(as_text=True)
    header = jwt.get_unverified_header(body)
    assert header["alg"] == "RS256"
    jwks = jwt.PyJWKSet.from_dict(app.test_client().get(CERTS).get_json())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims = jwt.decode(body, key.key, algorithms=["RS256"], audience="test-signed", issuer=ISSUER)
    assert claims["sub"] == decode(tokens["id_token"])["sub"]
    assert claims["SubjectRefPro"]["exercices"]


# --- introspection -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers,data",
    [
        ({}, {}),
        ({}, {"client_id": "test-public"}),
        ({}, {"client_id": "test-web"}),
        (basic("test-web", "wrong"), {}),
    ],
    ids=["no-auth", "public-client", "confidential-without-secret", "wrong-secret"],
)
def test_introspection_needs_an_authenticated_confidential_client(app, tokens, headers, data):
    response = app.test_client().post(
        INTROSPECT, data={"token": tokens["access_token"], **data}, headers=headers
    )
    json_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "", "x" * 9000], ids=["garbage", "bad-jws", "empty", "huge"]
)
def test_introspecting_garbage_is_inactive(app, clients, token):
    response = introspect(app, token, clients.web)
    assert response.status_code == 200 and response.get_json() == {"active": False}


def test_introspection_without_token_is_invalid_request(app, clients):
    response = app.test_client().post(
        INTROSPECT,
        data={"token_type_hint": "access_token"},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    json_error(response, 400, "invalid_request")


@pytest.mark.parametrize("endpoint", [INTROSPECT, REVOKE])
def test_unknown_token_type_hint_is_400(app, clients, tokens, endpoint):
    response = app.test_client().post(
        endpoint,
        data={"token": tokens["access_token"], "token_type_hint": "id_token"},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    json_error(response, 400, "unsupported_token_type")
    assert active(app, clients, tokens["access_token"])


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
def test_refresh_token_introspection(app, clients, tokens, hint):
    extra = {"token_type_hint": hint} if hint else {}
    body = introspect(app, tokens["refresh_token"], clients.web, **extra).get_json()
    assert body["active"] is True
    assert body["typ"] == "Refresh" and body["client_id"] == "test-web"
    assert "SubjectNameID" not in body


def test_revoked_token_is_inactive(app, clients, tokens):
    assert active(app, clients, tokens["access_token"])
    assert revoke(app, clients.web, tokens["access_token"]).status_code == 200
    assert introspect(app, tokens["access_token"], clients.web).get_json() == {"active": False}
    # Revoking an access token ends that token only.
    assert active(app, clients, tokens["refresh_token"])


# --- revocation ----------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["unknown", "a.b.c", "x" * 9000])
def test_revoking_an_unknown_token_is_200(app, clients, token):
    response = revoke(app, clients.web, token)
    assert response.status_code == 200 and response.get_data() == b""  # as Keycloak


def test_revoking_another_clients_token_is_refused_and_changes_nothing(app, clients, tokens):
    for token in (tokens["access_token"], tokens["refresh_token"]):
        json_error(revoke(app, clients.signed, token), 400, "unauthorized_client")
        assert active(app, clients, token)


@pytest.mark.parametrize(
    "headers,data,status,error",
    [
        ({}, {}, 401, "invalid_client"),
        (basic("test-web", "wrong"), {}, 401, "invalid_client"),
        ("web", {"token": None}, 400, "invalid_request"),
        ("web", {"token": ["a", "b"]}, 400, "invalid_request"),
    ],
    ids=["no-auth", "wrong-secret", "missing-token", "duplicated-token"],
)
def test_malformed_revocation(app, clients, headers, data, status, error):
    if headers == "web":
        headers = basic(clients.web.client_id, clients.web.secret)
    form = {k: v for k, v in {"token": "unknown", **data}.items() if v is not None}
    json_error(app.test_client().post(REVOKE, data=form, headers=headers), status, error)


def test_public_client_revokes_its_own_refresh_token(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.public)
    assert revoke(app, clients.public, tokens["refresh_token"]).status_code == 200
    assert not active(app, clients, tokens["access_token"])


def test_revoking_a_refresh_token_ends_its_family(app, clients, tokens):
    newer = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).get_json()
    assert revoke(app, clients.web, newer["refresh_token"]).status_code == 200
    for token in (tokens["access_token"], newer["access_token"], newer["refresh_token"]):
        assert not active(app, clients, token)
    response = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=newer["refresh_token"]
    )
    json_error(response, 400, "invalid_grant")


# --- logout --------------------------------------------------------------------------------
def session_alive(browser) -> bool:
    """Whether the browser's SSO session still answers ``prompt=none``."""
    response = browser.authorize(
        "test-web", prompt="none", code_challenge=pkce_pair()[1], code_challenge_method="S256"
    )
    return "code" in query_of(response.headers["Location"])


@pytest.mark.parametrize(
    "params",
    [
        {"id_token_hint": "not-a-jwt"},
        {"id_token_hint": "a.b.c"},
        {"id_token_hint": "other-key"},
        {"id_token_hint": "access-token"},
        {"id_token_hint": "valid", "post_logout_redirect_uri": "https://evil.example/"},
        {"id_token_hint": "valid", "post_logout_redirect_uri": POST_LOGOUT + "other"},
        {"post_logout_redirect_uri": POST_LOGOUT},
        {"id_token_hint": "valid", "client_id": "test-post"},
        {"client_id": "unknown-client", "post_logout_redirect_uri": POST_LOGOUT},
        {"client_id": "test-web", "post_logout_redirect_uri": "https://evil.example/"},
        {"id_token_hint": "valid", "state": ["a", "b"]},
        {"client_id": "test-web\x00", "post_logout_redirect_uri": POST_LOGOUT},
    ],
    ids=[
        "garbage-hint",
        "bad-jws-hint",
        "hint-other-key",
        "hint-is-access-token",
        "foreign-uri",
        "unregistered-uri",
        "uri-without-client",
        "client-mismatch",
        "unknown-client",
        "client-id-foreign-uri",
        "duplicated-state",
        "nul-in-client",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_logout_request_gets_french_page_and_keeps_session(
    app, browser, clients, params, method
):
    tokens = login_and_get_tokens(app, browser, clients.web)
    values = {
        "valid": tokens["id_token"],
        "access-token": tokens["access_token"],
        "other-key": forged(app, tokens["id_token"], key=OTHER_KEY, kid="other"),
    }
    hint = params.get("id_token_hint")
    params = {**params, "id_token_hint": values.get(hint, hint)} if hint else params
    if method == "GET":
        response = browser.http.get(LOGOUT, query_string=params)
    else:
        response = browser.http.post(LOGOUT, data=params)
    body = french_page(response)
    assert "Déconnexion impossible" in body and "evil.example" not in body
    assert session_alive(browser)
    assert active(app, clients, tokens["access_token"])


def test_logout_with_hint_redirects_to_registered_uri(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": POST_LOGOUT,
            "state": "bye",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == POST_LOGOUT + "?state=bye"
    assert not active(app, clients, tokens["access_token"])


def logout_form(browser) -> str:
    page = browser.http.get(LOGOUT)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("csrf", [None, "forged", "non-ascii-é", "other-browser"])
def test_logout_confirmation_needs_the_csrf_token(app, browser, clients, csrf):
    from tests.helpers import Browser

    tokens = login_and_get_tokens(app, browser, clients.web)
    form = {"confirm": "yes"}
    if csrf in ("forged", "non-ascii-é"):
        form["csrf_token"] = csrf
    elif csrf == "other-browser":
        form["csrf_token"] = logout_form(Browser(app))
    logout_form(browser)
    response = browser.http.post(LOGOUT, data=form)
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)  # asked again
    assert session_alive(browser)
    assert active(app, clients, tokens["access_token"])


def test_logout_confirmation_with_csrf_token_ends_the_session(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    csrf = logout_form(browser)
    response = browser.http.post(LOGOUT, data={"confirm": "yes", "csrf_token": csrf})
    assert response.status_code == 200 and '<html lang="fr">' in response.get_data(as_text=True)
    assert not session_alive(browser)
    assert not active(app, clients, tokens["access_token"])


# --- published documents and unknown paths -------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        CERTS,
        f"{ISSUER_PATH}/.well-known/openid-configuration",
        f"{ISSUER_PATH}/.well-known/wallet-openid-configuration",
        f"{ISSUER_PATH}/",
    ],
)
def test_published_documents_are_reachable(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()


@pytest.mark.parametrize(
    "path",
    [
        f"{ISSUER_PATH}/nope",
        f"{ISSUER_PATH}/protocol/openid-connect/nope",
        f"{ISSUER_PATH}/protocol/openid-connect/token/nope",
        f"{ISSUER_PATH}/protocol/openid-connect/ext/nope",
    ],
)
def test_unknown_issuer_path_is_json_404(app, path):
    json_error(app.test_client().get(path), 404, "invalid_request")


@pytest.mark.parametrize("path", ["/wallet/nope", "/wallet/login", "/wallet/auth/resume"])
def test_unknown_wallet_path_is_french_404(app, path):
    assert "Page introuvable" in french_page(app.test_client().get(path), 404)


def test_huge_wallet_form_is_french_413(app, browser):
    response = browser.http.post("/wallet/auth", data={"client_id": "x" * (65 * 1024)})
    french_page(response, 413)


# --- the wallet's login pages ----------------------------------------------------------------
def start_login(browser) -> str:
    response = browser.authorize(
        "test-web", code_challenge=pkce_pair()[1], code_challenge_method="S256"
    )
    assert response.headers["Location"].startswith("/wallet/login/")
    return response.headers["Location"]


@pytest.mark.parametrize("tx_id", ["unknown-transaction", "nul%00", "x" * 300])
@pytest.mark.parametrize("suffix", ["", "/dev", "/cancel"])
def test_unknown_transaction_gets_french_page(browser, clients, tx_id, suffix):
    start_login(browser)
    body = french_page(browser.http.get(f"/wallet/login/{tx_id}{suffix}"))
    assert "inconnue" in body


@pytest.mark.parametrize("tx_id", ["unknown-transaction", "nul%00"])
def test_resume_of_unknown_transaction_gets_french_page(browser, clients, tx_id):
    start_login(browser)
    assert "inconnue" in french_page(browser.http.get(f"/wallet/auth/resume/{tx_id}"))


@pytest.mark.parametrize("suffix", ["", "/dev", "/cancel"])
def test_transaction_from_another_browser_gets_french_page(app, browser, clients, suffix):
    page = start_login(browser)
    stranger = app.test_client()  # no PSC_LOGIN cookie
    assert "autre navigateur" in french_page(stranger.get(page + suffix))
    assert browser.http.get(page).status_code == 200  # the owner still can


def test_expired_transaction_gets_french_page(app, browser, clients):
    from psc_idp.extensions import db
    from psc_idp.login.models import LoginTransaction
    from psc_idp.timeutil import now

    page = start_login(browser)
    with app.app_context():
        db.session.get(LoginTransaction, page.rsplit("/", 1)[1]).expires_at = now() - timedelta(
            seconds=1
        )
        db.session.commit()
    assert "délai" in french_page(browser.http.get(page))


def test_resume_of_pending_transaction_gets_french_page(browser, clients):
    tx_id = start_login(browser).rsplit("/", 1)[1]
    french_page(browser.http.get(f"/wallet/auth/resume/{tx_id}"))


def test_unknown_means_gets_french_404(browser, clients):
    page = start_login(browser)
    assert "Moyen indisponible" in french_page(browser.http.get(page + "/nope"), 404)


@pytest.mark.parametrize("csrf", [None, "forged", "non-ascii-é", "other-transaction"])
def test_picker_post_without_the_right_csrf_token_logs_nobody_in(app, browser, clients, csrf):
    page = start_login(browser)
    form = {"national_id": "899700218896", "auth_mode": "CARD"}
    if csrf in ("forged", "non-ascii-é"):
        form["csrf_token"] = csrf
    elif csrf == "other-transaction":
        other = start_login(browser)
        html = browser.http.get(other + "/dev").get_data(as_text=True)
        form["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = browser.http.post(page + "/dev", data=form)
    assert "formulaire" in french_page(response)
    assert "PSC_SESSION" not in response.headers.get("Set-Cookie", "")
    # Nothing was spent: the right token still logs in.
    assert browser.pick_identity(page).status_code == 302
