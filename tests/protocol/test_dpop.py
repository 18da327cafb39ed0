"""DPoP (RFC 9449): each check of a proof refused on its own, DPoP-bound tokens at the token,
UserInfo and introspection endpoints, ``dpop_jkt`` at authorization, the per-client requirement,
the server nonce, and a proof's single use across concurrent requests.

Proofs are made with joserfc (a client-side library independent of the server's PyJWT), and
the expected ``cnf.jkt`` is joserfc's RFC 7638 thumbprint."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any

import pytest
from joserfc.jwk import OKPKey, RSAKey
from werkzeug.test import Client as WsgiClient

from psc_idp.extensions import db
from psc_idp.http.prepared import wrap
from psc_idp.protocol.clients import client_to_dict, upsert_client
from psc_idp.protocol.dpop import nonce as nonces
from psc_idp.protocol.models import Client
from tests.dpop_client import (
    BASE,
    TOKEN_URL,
    USERINFO_URL,
    Holder,
    ath,
    challenged,
    refused,
    userinfo,
)
from tests.helpers import (
    INTROSPECT,
    ISSUER_PATH,
    REDIRECT,
    TOKEN,
    USERINFO,
    Browser,
    RegisteredClient,
    TestClients,
    basic,
    decode,
    pkce_pair,
    query_of,
)
from tests.jose_keys import full_length_key
from tests.protocol.test_par import PAR, authorization_params, redeem

PUBLIC = "dpop-public"
REQUIRED = "dpop-required"
REQUIRED_SECRET = secrets.token_urlsafe(32)
DISCOVERY = f"{ISSUER_PATH}/.well-known/openid-configuration"


def unsigned(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: Any) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(body)}.{part(signature)}"


@pytest.fixture(scope="module")
def dpop_clients(app) -> dict[str, RegisteredClient]:
    common = {"redirect_uris": [REDIRECT]}
    with app.app_context():
        upsert_client(
            {
                "client_id": PUBLIC,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
            }
            | common
        )
        upsert_client(
            {
                "client_id": REQUIRED,
                "secret": REQUIRED_SECRET,
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "dpop_bound_access_tokens": True,
            }
            | common
        )
        db.session.commit()
    return {
        PUBLIC: RegisteredClient(PUBLIC, None, method="none"),
        REQUIRED: RegisteredClient(REQUIRED, REQUIRED_SECRET),
    }


def token_request(app, client: RegisteredClient, proof: str | None = None, **data: str):
    headers, form = client.auth()
    if proof is not None:
        headers = {**headers, "DPoP": proof}
    return app.test_client().post(TOKEN, data={**form, **data}, headers=headers)


def service_token(app, clients, proof: str | None = None):
    return token_request(app, clients.web, proof, grant_type="client_credentials")


def code_tokens(app, browser: Browser, client: RegisteredClient, proof=None, **params: str):
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256", **params
    )
    return token_request(
        app,
        client,
        proof,
        grant_type="authorization_code",
        code=callback["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )


def introspect(app, clients, token: str) -> dict[str, Any]:
    response = app.test_client().post(
        INTROSPECT, data={"token": token}, headers=basic(clients.web.client_id, clients.web.secret)
    )
    assert response.status_code == 200
    return response.get_json()


# --- the token endpoint: a bound token -------------------------------------------------------
@pytest.mark.parametrize(
    "key, alg",
    [
        (full_length_key, "ES256"),
        (lambda: RSAKey.generate_key(2048), "RS256"),
        (lambda: RSAKey.generate_key(2048), "PS256"),
        pytest.param(
            lambda: OKPKey.generate_key("Ed25519"),
            "EdDSA",
            # joserfc warns of RFC 9864's fully specified names; EdDSA is what clients send.
            marks=pytest.mark.filterwarnings("ignore:EdDSA is deprecated"),
        ),
    ],
)
def test_a_proof_binds_the_access_token_to_its_key(app, clients, key, alg):
    holder = Holder(key(), alg)
    response = service_token(app, clients, holder.proof())
    assert response.status_code == 200, response.get_json()
    token = response.get_json()
    assert token["token_type"] == "DPoP"
    assert decode(token["access_token"])["cnf"] == {"jkt": holder.jkt}


def test_without_a_proof_the_token_stays_a_bearer_token(app, clients):
    token = service_token(app, clients).get_json()
    assert token["token_type"] == "Bearer" and "cnf" not in decode(token["access_token"])


def test_introspection_shows_the_key_and_the_dpop_type(app, clients):
    holder = Holder()
    access = service_token(app, clients, holder.proof()).get_json()["access_token"]
    answer = introspect(app, clients, access)
    assert answer["active"] is True
    assert (answer["token_type"], answer["cnf"]) == ("DPoP", {"jkt": holder.jkt})
    plain = service_token(app, clients).get_json()["access_token"]
    assert introspect(app, clients, plain)["token_type"] == "Bearer"


# --- each check of a proof -----------------------------------------------------------------
def test_typ_must_be_dpop_jwt(app, clients):
    refused(service_token(app, clients, Holder().proof(header={"typ": "JWT"})), "typ")


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_must_be_asymmetric(app, clients, alg):
    holder = Holder()
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": holder.key.as_dict(private=False)}
    body = {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    refused(service_token(app, clients, unsigned(header, body, b"sig")), "alg")


def test_alg_must_fit_the_key(app, clients):
    holder = Holder()
    rsa = RSAKey.generate_key(2048)
    # An RSA signature announced with the EC key: the key cannot verify it.
    proof = holder.proof(header={"alg": "RS256"}, signer=rsa)
    refused(service_token(app, clients, proof), "jwk does not fit its alg")


def test_jwk_is_required(app, clients):
    refused(service_token(app, clients, Holder().proof(header={"jwk": None})), "no jwk")


def test_jwk_must_not_be_a_private_key(app, clients):
    holder = Holder()
    proof = holder.proof(header={"jwk": holder.key.as_dict(private=True)})
    refused(service_token(app, clients, proof), "not a public key")


def test_the_signature_must_be_the_jwks(app, clients):
    holder, other = Holder(), Holder()
    proof = holder.proof(signer=other.key)
    refused(service_token(app, clients, proof), "signature")


def test_htm_must_be_the_requests_method(app, clients):
    refused(service_token(app, clients, Holder().proof(htm="GET")), "htm")


def test_htu_must_be_the_endpoint(app, clients):
    refused(service_token(app, clients, Holder().proof(htu=USERINFO_URL)), "htu")
    refused(service_token(app, clients, Holder().proof(htu="https://evil.example" + TOKEN)), "htu")


def test_htu_is_compared_normalised_without_query(app, clients):
    htu = f"HTTP://LOCALHOST:8080{TOKEN}?a=b#frag"
    assert service_token(app, clients, Holder().proof(htu=htu)).status_code == 200


def test_htu_may_name_the_mtls_alias(app, clients):
    """The alias discovery gives (RFC 8705 §5): the test settings' TLS listener."""
    aliases = app.test_client().get(DISCOVERY).get_json()["mtls_endpoint_aliases"]
    alias = aliases["token_endpoint"]
    assert alias == f"https://localhost:8443{TOKEN}"
    assert service_token(app, clients, Holder().proof(htu=alias)).status_code == 200


@pytest.mark.parametrize(
    "htu", ["http://localhost:port/token", "http://[::1/token", "", "token"], ids=repr
)
def test_an_htu_that_is_no_url_is_refused(app, clients, htu):
    refused(service_token(app, clients, Holder().proof(htu=htu)), "htu")


@pytest.mark.parametrize(
    "jwk",
    [
        "a string",
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA"},
    ],
    ids=["string", "symmetric", "not on the curve", "no modulus"],
)
def test_a_jwk_that_is_no_public_key_is_refused(app, clients, jwk):
    # Refused before any signature check: the proof need not verify.
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
    body = {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    refused(service_token(app, clients, unsigned(header, body, b"sig")), "jwk")


def test_an_iat_that_is_no_number_is_refused(app, clients):
    refused(service_token(app, clients, Holder().proof(iat="now")), "iat")


@pytest.mark.parametrize("missing", ["jti", "htm", "htu", "iat"])
def test_each_required_claim(app, clients, missing):
    refused(service_token(app, clients, Holder().proof(**{missing: None})), missing)


def test_iat_older_than_the_proof_lifetime(app, clients):
    proof = Holder().proof(iat=int(time.time()) - 120)
    refused(service_token(app, clients, proof), "expired")


def test_iat_in_the_future_beyond_the_skew(app, clients):
    proof = Holder().proof(iat=int(time.time()) + 60)
    refused(service_token(app, clients, proof), "future")


def test_a_small_clock_skew_is_accepted(app, clients):
    proof = Holder().proof(iat=int(time.time()) + 3)
    assert service_token(app, clients, proof).status_code == 200


def test_a_proof_is_used_once(app, clients):
    proof = Holder().proof()
    assert service_token(app, clients, proof).status_code == 200
    refused(service_token(app, clients, proof), "already been used")


def test_a_proof_used_on_one_instance_is_refused_on_another(app, make_app, clients):
    other = make_app()  # a second instance: same database, same keys
    proof = Holder().proof()
    assert service_token(app, clients, proof).status_code == 200
    refused(service_token(other, clients, proof), "already been used")


def test_two_proofs_are_refused(app, clients):
    headers, _ = clients.web.auth()
    holder = Holder()
    response = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=[*headers.items(), ("DPoP", holder.proof()), ("DPoP", holder.proof())],
    )
    refused(response, "More than one")


def test_garbage_is_refused_as_a_proof(app, clients):
    refused(service_token(app, clients, "not-a-jwt"), "well-formed")


def test_concurrent_requests_with_one_proof_one_wins(app, clients):
    proof = Holder().proof()
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send() -> None:
        start.wait()
        statuses.append(service_token(app, clients, proof).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 400]


# --- per-client requirement ----------------------------------------------------------------
def test_a_client_registered_for_dpop_must_send_a_proof(app, dpop_clients):
    client = dpop_clients[REQUIRED]
    refused(token_request(app, client, grant_type="client_credentials"), "missing")
    holder = Holder()
    bound = token_request(app, client, holder.proof(), grant_type="client_credentials")
    assert bound.get_json()["token_type"] == "DPoP"


def test_a_code_refused_for_want_of_a_proof_is_not_spent(app, browser, dpop_clients):
    client = dpop_clients[REQUIRED]
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    grant = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    refused(token_request(app, client, **grant), "missing")
    tokens = token_request(app, client, Holder().proof(), **grant)
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["token_type"] == "DPoP"


def test_the_requirement_is_in_the_clients_description(app, dpop_clients):
    with app.app_context():
        assert client_to_dict(db.session.get(Client, REQUIRED))["dpop_bound_access_tokens"]
        assert "dpop_bound_access_tokens" not in client_to_dict(db.session.get(Client, PUBLIC))


# --- UserInfo ------------------------------------------------------------------------------
@pytest.fixture
def bound(app, browser, clients) -> tuple[Holder, str]:
    holder = Holder()
    response = code_tokens(app, browser, clients.web, holder.proof())
    assert response.status_code == 200, response.get_json()
    return holder, response.get_json()["access_token"]


def test_userinfo_with_the_dpop_scheme_and_a_proof(app, bound):
    holder, token = bound
    response = userinfo(app, token, holder.for_token(token))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["sub"]


def test_userinfo_by_post_with_its_own_htm(app, bound):
    holder, token = bound
    response = app.test_client().post(
        USERINFO,
        headers={"Authorization": f"DPoP {token}", "DPoP": holder.for_token(token, "POST")},
    )
    assert response.status_code == 200


def test_userinfo_refuses_a_bound_token_as_a_bearer_token(app, bound):
    holder, token = bound
    challenged(userinfo(app, token, holder.for_token(token), scheme="Bearer"), "invalid_token")
    challenged(userinfo(app, token, scheme="Bearer"), "invalid_token")


def test_userinfo_refuses_a_bound_token_as_a_bearer_token_before_flask(app, bound):
    """The workers' shortcut (protocol/direct.py) leaves a bound token to Flask."""
    _, token = bound
    response = WsgiClient(wrap(app)).get(
        USERINFO,
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')


def test_userinfo_refuses_an_unknown_token_in_the_dpop_scheme(app):
    token = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
    challenged(userinfo(app, token, Holder().for_token(token)), "invalid_token")


def test_userinfo_dpop_scheme_needs_a_proof(app, bound):
    _, token = bound
    challenged(userinfo(app, token), "invalid_dpop_proof")


def test_userinfo_proof_must_hash_the_presented_token(app, bound):
    holder, token = bound
    challenged(userinfo(app, token, holder.for_token(token + "x")), "invalid_dpop_proof")
    challenged(userinfo(app, token, holder.proof("GET", USERINFO_URL)), "invalid_dpop_proof")


def test_userinfo_proof_must_be_for_userinfo(app, bound):
    holder, token = bound
    proof = holder.proof("GET", TOKEN_URL, ath=ath(token))
    challenged(userinfo(app, token, proof), "invalid_dpop_proof")


def test_userinfo_proof_of_another_key(app, bound):
    _, token = bound
    challenged(userinfo(app, token, Holder().for_token(token)), "invalid_token")


def test_userinfo_refuses_the_dpop_scheme_for_a_bearer_token(app, browser, clients):
    token = code_tokens(app, browser, clients.web).get_json()["access_token"]
    challenged(userinfo(app, token, Holder().for_token(token)), "invalid_token")
    assert userinfo(app, token, scheme="Bearer").status_code == 200


# --- refresh -------------------------------------------------------------------------------
def test_a_public_clients_refresh_token_is_bound_to_its_key(app, browser, dpop_clients):
    client = dpop_clients[PUBLIC]
    holder = Holder()
    tokens = code_tokens(app, browser, client, holder.proof()).get_json()
    assert tokens["token_type"] == "DPoP"
    refresh = tokens["refresh_token"]
    grant = {"grant_type": "refresh_token", "refresh_token": refresh}
    refused(token_request(app, client, **grant), "missing")
    refused(token_request(app, client, Holder().proof(), **grant), "does not match")
    # The refused attempts did not spend the token: its holder refreshes with it.
    again = token_request(app, client, holder.proof(), **grant)
    assert again.status_code == 200, again.get_json()
    assert decode(again.get_json()["access_token"])["cnf"] == {"jkt": holder.jkt}


def test_a_confidential_clients_refresh_token_is_not_bound(app, browser, clients):
    tokens = code_tokens(app, browser, clients.web, Holder().proof()).get_json()
    other = Holder()
    response = token_request(
        app,
        clients.web,
        other.proof(),
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )
    assert response.status_code == 200, response.get_json()
    assert decode(response.get_json()["access_token"])["cnf"] == {"jkt": other.jkt}


# --- dpop_jkt at authorization -------------------------------------------------------------
def test_dpop_jkt_binds_the_code_to_the_key(app, browser, clients):
    holder = Holder()
    verifier, challenge = pkce_pair()
    callback = browser.login(
        clients.web.client_id,
        code_challenge=challenge,
        code_challenge_method="S256",
        dpop_jkt=holder.jkt,
    )
    grant = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    refused(token_request(app, clients.web, **grant), "missing")
    refused(token_request(app, clients.web, Holder().proof(), **grant), "dpop_jkt")
    response = token_request(app, clients.web, holder.proof(), **grant)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "DPoP"


def test_a_malformed_dpop_jkt_is_refused_at_the_redirect_uri(browser, clients):
    response = browser.authorize(clients.web.client_id, dpop_jkt="not a thumbprint")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?error=invalid_request")


# --- pushed authorization requests ----------------------------------------------------------
def push_with_proof(app, clients, proof: str, **overrides: str):
    verifier, challenge = pkce_pair()
    headers, _ = clients.web.auth()
    params = authorization_params(clients.web.client_id, challenge, **overrides)
    response = app.test_client().post(PAR, data=params, headers={**headers, "DPoP": proof})
    return verifier, response


def test_a_proof_at_par_binds_the_code_to_its_key(app, browser, clients):
    holder = Holder()
    verifier, response = push_with_proof(app, clients, holder.proof(htu=BASE + PAR))
    assert response.status_code == 201, response.get_json()
    callback = query_of(redeem(browser, clients.web.client_id, response.get_json()["request_uri"]))
    grant = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    refused(token_request(app, clients.web, Holder().proof(), **grant), "dpop_jkt")
    assert token_request(app, clients.web, holder.proof(), **grant).status_code == 200


def test_par_refuses_a_proof_of_another_key_than_dpop_jkt(app, clients):
    _, response = push_with_proof(
        app, clients, Holder().proof(htu=BASE + PAR), dpop_jkt=Holder().jkt
    )
    refused(response, "dpop_jkt")


def test_par_refuses_an_invalid_proof(app, clients):
    _, response = push_with_proof(app, clients, Holder().proof(htu=TOKEN_URL))
    refused(response, "htu")


# --- server nonce --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nonce_app(make_app):
    return make_app(dpop_nonce=True)


def test_a_required_nonce_is_given_and_then_accepted(nonce_app, make_app):
    clients = TestClients.ensure(nonce_app)
    holder = Holder()
    first = service_token(nonce_app, clients, holder.proof())
    refused(first, "nonce", "use_dpop_nonce")
    nonce = first.headers["DPoP-Nonce"]
    second = service_token(nonce_app, clients, holder.proof(nonce=nonce))
    assert second.status_code == 200, second.get_json()
    assert second.headers["DPoP-Nonce"]
    # Stateless: a second instance (same keys, same database) accepts the same nonce.
    other = make_app(dpop_nonce=True)
    assert service_token(other, clients, holder.proof(nonce=nonce)).status_code == 200


def test_a_nonce_of_an_old_window_is_refused(nonce_app):
    clients = TestClients.ensure(nonce_app)
    with nonce_app.app_context():
        stale = nonces._for_window(nonces._window(time.time() - 300))
    proof = Holder().proof(nonce=stale)
    refused(service_token(nonce_app, clients, proof), "nonce", "use_dpop_nonce")


def test_a_forged_nonce_is_refused(nonce_app):
    clients = TestClients.ensure(nonce_app)
    proof = Holder().proof(nonce=secrets.token_urlsafe(18))
    refused(service_token(nonce_app, clients, proof), "nonce", "use_dpop_nonce")


def test_par_asks_for_a_nonce(nonce_app):
    clients = TestClients.ensure(nonce_app)
    _, response = push_with_proof(nonce_app, clients, Holder().proof(htu=BASE + PAR))
    refused(response, "nonce", "use_dpop_nonce")
    nonce = response.headers["DPoP-Nonce"]
    proof = Holder().proof(htu=BASE + PAR, nonce=nonce)
    assert push_with_proof(nonce_app, clients, proof)[1].status_code == 201


def test_userinfo_asks_for_a_nonce(nonce_app, bound):
    holder, token = bound
    response = userinfo(nonce_app, token, holder.for_token(token))
    challenged(response, "use_dpop_nonce")
    nonce = response.headers["DPoP-Nonce"]
    assert userinfo(nonce_app, token, holder.for_token(token, nonce=nonce)).status_code == 200


# --- discovery -----------------------------------------------------------------------------
def test_discovery_advertises_the_proof_algorithms(app):
    body = app.test_client().get(DISCOVERY)
    algs = body.get_json()["dpop_signing_alg_values_supported"]
    assert {"ES256", "RS256", "PS256"} <= set(algs) and "HS256" not in algs
