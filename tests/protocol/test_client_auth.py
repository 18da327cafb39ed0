"""Client authentication at the token endpoint: ``client_secret_basic`` (with RFC 6749 §2.3.1
form-urlencoding), ``client_secret_post`` and ``private_key_jwt`` (OIDC Core §9, RFC 7523), each
only for the clients registered for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from tests.helpers import ISSUER_PATH, TOKEN, basic

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ENCODED_ID = "test-auth enc:é/+%"
ENCODED_SECRET = "s3cr:t +%/é&="
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
URI_KEY = ec.generate_private_key(ec.SECP256R1())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(client_id: str = "test-jwt", **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{ISSUER}/protocol/openid-connect/token",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
        **overrides,
    }
    return {k: v for k, v in claims.items() if v is not None}


def signed(key, kid: str = "test-jwt-key", alg: str = "RS256", **overrides) -> str:
    return jwt.encode(claims_for(**overrides), key, algorithm=alg, headers={"kid": kid})


def unsigned(header: dict, claims: dict, key: bytes | None = None) -> str:
    """A JWS built by hand: ``alg: none``, or HS256 keyed with ``key``."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    if key is None:
        return f"{head}.{body}."
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def with_assertion(app, assertion: str, **extra: str):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    return app.test_client().post(TOKEN, data=data)


def refused(response, status: int = 401) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_client"


def granted(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["access_token"]
    return body


def register(app, **spec) -> None:
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    with app.app_context():
        upsert_client({"grant_types": ["client_credentials"], **spec})
        db.session.commit()


def public_jwk(key, kid: str) -> dict:
    if isinstance(key, rsa.RSAPrivateKey):
        data = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig"}


# --- client secrets ------------------------------------------------------------------------
def test_client_secret_basic(app, clients):
    headers = basic(clients.web.client_id, clients.web.secret)
    granted(
        app.test_client().post(TOKEN, data={"grant_type": "client_credentials"}, headers=headers)
    )


def test_client_secret_post(app, clients):
    data = {
        "grant_type": "client_credentials",
        "client_id": "test-post",
        "client_secret": clients.post.secret,
    }
    granted(app.test_client().post(TOKEN, data=data))


@pytest.mark.parametrize(
    "encode", [quote_plus, lambda v: quote(v, safe="")], ids=["form-urlencoded", "percent-encoded"]
)
def test_basic_credentials_are_form_urlencoded(app, encode):
    register(app, client_id=ENCODED_ID, secret=ENCODED_SECRET)
    headers = basic(encode(ENCODED_ID), encode(ENCODED_SECRET))
    body = granted(
        app.test_client().post(TOKEN, data={"grant_type": "client_credentials"}, headers=headers)
    )
    assert (
        jwt.decode(body["access_token"], options={"verify_signature": False})["azp"] == ENCODED_ID
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(f"{ENCODED_ID}:{ENCODED_SECRET}".encode()).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff\xfe").decode(),
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic not base64 at all",
        "Basic ",
    ],
    ids=["not-encoded", "not-utf8", "no-colon", "garbage", "empty"],
)
def test_unreadable_basic_credentials_are_invalid_client(app, authorization):
    register(app, client_id=ENCODED_ID, secret=ENCODED_SECRET)
    response = app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": authorization}
    )
    refused(response)
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "attempt",
    ["secret-for-public-client", "secret-for-jwt-client"],
)
def test_method_not_registered_is_refused(app, clients, attempt):
    headers, data = {}, {"grant_type": "client_credentials"}
    if attempt == "secret-for-public-client":
        data.update(
            grant_type="refresh_token",
            refresh_token="x",
            client_id="test-public",
            client_secret="anything",
        )
    else:
        data.update(client_id="test-jwt", client_secret="anything")
    refused(app.test_client().post(TOKEN, data=data, headers=headers))


def test_assertion_for_client_registered_for_secret_is_refused(app, clients):
    register(
        app,
        client_id="test-auth-secret-with-keys",
        secret="s" * 32,
        jwks={"keys": [public_jwk(OTHER_KEY, "other")]},
    )
    assertion = signed(OTHER_KEY, kid="other", client_id="test-auth-secret-with-keys")
    refused(with_assertion(app, assertion))


# --- private_key_jwt -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "aud",
    [ISSUER, f"{ISSUER}/protocol/openid-connect/token", [ISSUER, "https://other.example"]],
    ids=["issuer", "token-endpoint", "list-with-issuer"],
)
def test_valid_assertion(app, clients, aud):
    granted(with_assertion(app, signed(clients.jwt.private_key, aud=aud)))


def test_assertion_valid_for_an_hour_is_accepted(app, clients):
    # What Authlib's client signs by default.
    exp = int(time.time()) + 3600
    granted(with_assertion(app, signed(clients.jwt.private_key, exp=exp)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://evil.example/token"},
        {"aud": f"{ISSUER}/protocol/openid-connect/token/introspect"},
        {"aud": None},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"exp": "soon"},
        {"exp": int(time.time()) + 2 * 86400},
        {"exp": 10**12},
        {"nbf": int(time.time()) + 3600},
        {"iat": "yesterday"},
        {"jti": None},
        {"jti": {"id": 1}},
        {"iss": "test-web"},
        {"iss": None},
        {"sub": "test-web", "iss": "test-web"},
        {"sub": None},
        {"sub": ["test-jwt"]},
        {"sub": "unknown-client", "iss": "unknown-client"},
        {"sub": "test-jwt\x00", "iss": "test-jwt\x00"},
    ],
    ids=[
        "wrong-aud",
        "introspection-aud",
        "no-aud",
        "expired",
        "no-exp",
        "exp-not-a-date",
        "exp-too-far",
        "exp-beyond-datetime",
        "not-yet-valid",
        "iat-not-a-date",
        "no-jti",
        "jti-not-string",
        "iss-not-sub",
        "no-iss",
        "other-client",
        "no-sub",
        "sub-not-string",
        "unknown-client",
        "nul-in-sub",
    ],
)
def test_bad_assertion_claims(app, clients, overrides):
    refused(with_assertion(app, signed(clients.jwt.private_key, **overrides)))


def test_replayed_jti_is_refused(app, clients):
    assertion = signed(clients.jwt.private_key)
    granted(with_assertion(app, assertion))
    refused(with_assertion(app, assertion))
    # The same jti in a freshly signed assertion is a replay too.
    jti = jwt.decode(assertion, options={"verify_signature": False})["jti"]
    refused(with_assertion(app, signed(clients.jwt.private_key, jti=jti)))


def test_jti_is_spent_even_when_the_request_then_fails(app, clients):
    assertion = signed(clients.jwt.private_key)
    response = with_assertion(app, assertion, grant_type="refresh_token", refresh_token="unknown")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    refused(with_assertion(app, assertion))


@pytest.mark.parametrize("path", ["token/introspect", "revoke"])
def test_jti_is_spent_at_introspection_and_revocation(app, clients, path):
    endpoint = f"{ISSUER_PATH}/protocol/openid-connect/{path}"
    data = {
        "token": "unknown",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed(clients.jwt.private_key, aud=ISSUER),
    }
    assert app.test_client().post(endpoint, data=data).status_code == 200
    refused(app.test_client().post(endpoint, data=data))


def test_alg_none_is_refused(app, clients):
    assertion = unsigned({"alg": "none", "typ": "JWT", "kid": "test-jwt-key"}, claims_for())
    refused(with_assertion(app, assertion))


def test_hmac_keyed_with_the_public_key_is_refused(app, clients):
    pem = clients.jwt.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for header in ({"alg": "HS256", "kid": "test-jwt-key"}, {"alg": "HS256"}):
        refused(with_assertion(app, unsigned(header, claims_for(), key=pem)))


@pytest.mark.parametrize("kid", ["test-jwt-key", "unknown-kid"], ids=["same-kid", "unknown-kid"])
def test_other_key_is_refused(app, clients, kid):
    refused(with_assertion(app, signed(OTHER_KEY, kid=kid)))


def test_unknown_kid_with_the_right_key_is_refused(app, clients):
    refused(with_assertion(app, signed(clients.jwt.private_key, kid="unknown-kid")))


@pytest.mark.parametrize(
    "assertion",
    ["not-a-jwt", "a.b.c", "e30.e30.", "W10.W10.c2ln", "x" * 9000],
    ids=["garbage", "bad-base64", "empty-objects", "json-arrays", "huge"],
)
def test_malformed_assertion_is_invalid_client(app, clients, assertion):
    refused(with_assertion(app, assertion))


def test_wrong_assertion_type_is_not_private_key_jwt(app, clients):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        "client_assertion": signed(clients.jwt.private_key),
    }
    refused(app.test_client().post(TOKEN, data=data))


# --- keys fetched from jwks_uri ----------------------------------------------------------------
@pytest.fixture
def jwks_server() -> Iterator[str]:
    """A tiny JWKS host on 127.0.0.1; ``/jwks.json`` serves the key, ``/garbage`` does not."""
    document = json.dumps({"keys": [{**public_jwk(URI_KEY, "uri-key"), "alg": "ES256"}]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = document.encode() if self.path == "/jwks.json" else b"<html>not json"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def register_jwks_uri(app, client_id: str, uri: str) -> None:
    register(app, client_id=client_id, token_endpoint_auth_method="private_key_jwt", jwks_uri=uri)


def test_keys_from_jwks_uri(app, jwks_server):
    register_jwks_uri(app, "test-auth-jwks-uri", f"{jwks_server}/jwks.json")
    assertion = signed(URI_KEY, kid="uri-key", alg="ES256", client_id="test-auth-jwks-uri")
    granted(with_assertion(app, assertion))
    other = signed(OTHER_KEY, kid="uri-key", client_id="test-auth-jwks-uri")
    refused(with_assertion(app, other))


@pytest.mark.parametrize("path", ["/garbage", None], ids=["not-json", "unreachable"])
def test_unusable_jwks_uri_is_invalid_client(app, jwks_server, path):
    uri = f"{jwks_server}{path}" if path else "http://127.0.0.1:1/jwks.json"
    register_jwks_uri(app, "test-auth-jwks-broken", uri)
    assertion = signed(URI_KEY, kid="uri-key", alg="ES256", client_id="test-auth-jwks-broken")
    refused(with_assertion(app, assertion))
