"""Encrypted ID tokens and UserInfo (OIDC Core §10.2, Registration §2): signed, then encrypted
to the client's RSA key from its ``jwks`` or ``jwks_uri``.

The relying party's side is joserfc's: it opens the JWE with the client's private key and
verifies the nested JWS against our published JWKS, as an Authlib RP does."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe, jws, jwt
from joserfc.jwk import KeySet, RSAKey
from jwt.algorithms import RSAAlgorithm
from werkzeug.test import Client as WsgiClient

from psc_idp.extensions import db
from psc_idp.http.prepared import wrap
from psc_idp.protocol.client_jwks import forget_cached_jwks
from psc_idp.protocol.clients import InvalidClient, client_to_dict, upsert_client, validate
from psc_idp.protocol.models import Client
from psc_idp.realm.client_checks import check_clients
from psc_idp.realm.problems import Problems
from tests.helpers import (
    CERTS,
    ISSUER_PATH,
    LOGOUT,
    REDIRECT,
    USERINFO,
    Browser,
    RegisteredClient,
    exchange_code,
    login_and_get_tokens,
    pkce_pair,
    token_call,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
ALGS = ("RSA-OAEP", "RSA-OAEP-256")
ENCS = ("A256GCM", "A192GCM", "A128GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512")
#: The client's key pair: only its public half is registered.
CLIENT_KEY = RSAKey.generate_key(2048, parameters={"kid": "rp-enc-1", "use": "enc"})
SIGNING_ONLY = RSAKey.generate_key(2048, parameters={"kid": "rp-sig", "use": "sig"})
#: 1024 bits: refused (made with cryptography, which does not warn about its size).
SHORT_KEY = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 1024).public_key()))


def public_jwks(*keys: RSAKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def register(app, client_id: str, **metadata: Any) -> RegisteredClient:
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "jwks": public_jwks(CLIENT_KEY, SIGNING_ONLY),
                **metadata,
            }
        )
        db.session.commit()
    return RegisteredClient(client_id, secret)


def our_jwks(app) -> KeySet:
    published = app.test_client().get(CERTS).get_json()["keys"]
    return KeySet.import_key_set({"keys": [k for k in published if k["use"] == "sig"]})


def opened(value: str, key: RSAKey = CLIENT_KEY) -> tuple[dict[str, Any], bytes]:
    """What the relying party reads: the JWE's header and its plaintext."""
    assert value.count(".") == 4, "a compact JWE has five segments"
    result = jwe.decrypt_compact(value, key, algorithms=[*ALGS, *ENCS])
    return result.protected, result.plaintext


def verified_claims(app, value: bytes | str, client_id: str) -> dict[str, Any]:
    token = jwt.decode(value, our_jwks(app), algorithms=["RS256", "PS256", "ES256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER}).validate(token.claims)
    assert token.claims["aud"] == client_id
    return token.claims


# --- discovery and realm checks ----------------------------------------------------------------
def test_discovery_advertises_what_is_supported(app):
    metadata = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    for prefix in ("id_token_encryption", "userinfo_encryption", "request_object_encryption"):
        assert metadata[f"{prefix}_alg_values_supported"] == list(ALGS)
        assert metadata[f"{prefix}_enc_values_supported"] == list(ENCS)
    assert "RSA1_5" not in metadata["id_token_encryption_alg_values_supported"]


@pytest.mark.parametrize(
    ("metadata", "complaint"),
    [
        ({"id_token_encrypted_response_alg": "RSA1_5"}, "id_token_encrypted_response_alg must"),
        (
            {"userinfo_encrypted_response_alg": "RSA-OAEP", "userinfo_encrypted_response_enc": "X"},
            "userinfo_encrypted_response_enc must",
        ),
        ({"id_token_encrypted_response_enc": "A128GCM"}, "needs id_token_encrypted_response_alg"),
        ({"request_object_encryption_alg": "dir"}, "request_object_encryption_alg must"),
        (
            {"jwks": None, "userinfo_encrypted_response_alg": "RSA-OAEP"},
            "userinfo_encrypted_response_alg needs jwks or jwks_uri",
        ),
    ],
)
def test_registration_refuses_what_cannot_work(metadata, complaint):
    data = {
        "client_id": "enc-bad",
        "secret": "s" * 32,
        "redirect_uris": [REDIRECT],
        "jwks": public_jwks(CLIENT_KEY),
        **metadata,
    }
    with pytest.raises(InvalidClient, match=complaint):
        validate(data)


def test_the_realm_check_says_it_in_french_with_the_place():
    problems = Problems()
    entry = {
        "client_id": "enc-realm",
        "secret": "s" * 32,
        "redirect_uris": [REDIRECT],
        "jwks": public_jwks(CLIENT_KEY),
        "id_token_encrypted_response_alg": "RSA-OAEP-384",
        "userinfo_encrypted_response_enc": "A128GCM",
    }
    check_clients(problems, [entry])
    said = dict(problems.items)
    assert "inconnue" in said[("clients", 0, "id_token_encrypted_response_alg")]
    assert "« RSA-OAEP" in said[("clients", 0, "id_token_encrypted_response_alg")]
    assert (
        "demande userinfo_encrypted_response_alg"
        in said[("clients", 0, "userinfo_encrypted_response_enc")]
    )


def test_the_choices_survive_an_export(app):
    register(app, "enc-export", request_object_encryption_alg="RSA-OAEP-256")
    with app.app_context():
        exported = client_to_dict(db.session.get(Client, "enc-export"))
    assert exported["request_object_encryption_alg"] == "RSA-OAEP-256"
    assert "request_object_encryption_enc" not in exported


# --- ID token ----------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("enc", ENCS)
def test_the_id_token_is_signed_then_encrypted_to_the_client(app, browser, alg, enc):
    client = register(
        app,
        f"enc-id-{alg}-{enc}".lower(),
        id_token_encrypted_response_alg=alg,
        id_token_encrypted_response_enc=enc,
    )
    tokens = login_and_get_tokens(app, browser, client, nonce="n-enc")
    header, inner = opened(tokens["id_token"])
    assert (header["alg"], header["enc"], header["cty"]) == (alg, enc, "JWT")
    assert header["kid"] == "rp-enc-1"  # which of its keys opens it
    claims = verified_claims(app, inner, client.client_id)
    assert (claims["nonce"], claims["typ"]) == ("n-enc", "ID")
    # The access token is not the client's to open: still a plain JWS.
    assert tokens["access_token"].count(".") == 2


def test_the_enc_defaults_to_a128cbc_hs256(app, browser):
    client = register(app, "enc-id-default", id_token_encrypted_response_alg="RSA-OAEP")
    header, _ = opened(login_and_get_tokens(app, browser, client)["id_token"])
    assert header["enc"] == "A128CBC-HS256"


def test_another_key_cannot_open_it(app, browser):
    client = register(app, "enc-id-other", id_token_encrypted_response_alg="RSA-OAEP-256")
    id_token = login_and_get_tokens(app, browser, client)["id_token"]
    stranger = RSAKey.generate_key(2048)
    with pytest.raises(Exception):  # noqa: B017 (joserfc's own error, whichever it is)
        opened(id_token, stranger)


def test_a_refreshed_id_token_is_encrypted_too(app, browser):
    client = register(app, "enc-id-refresh", id_token_encrypted_response_alg="RSA-OAEP")
    first = login_and_get_tokens(app, browser, client)
    refreshed = token_call(
        app, client, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.get_json()
    _, inner = opened(refreshed.get_json()["id_token"])
    assert verified_claims(app, inner, client.client_id)["typ"] == "ID"


def test_a_key_that_names_another_alg_or_use_is_not_taken(app, browser):
    """Only the key published for encryption with that algorithm (or any) may be used."""
    wrong_alg = RSAKey.generate_key(2048, parameters={"kid": "oaep-only", "alg": "RSA-OAEP"})
    client = register(
        app,
        "enc-id-choose",
        jwks=public_jwks(SIGNING_ONLY, wrong_alg, CLIENT_KEY),
        id_token_encrypted_response_alg="RSA-OAEP-256",
    )
    header, _ = opened(login_and_get_tokens(app, browser, client)["id_token"])
    assert header["kid"] == "rp-enc-1"


# --- logout with the ID token re-encrypted to us ----------------------------------------------
def reencrypted_to_us(app, signed_id_token: str, key: RSAKey | None = None) -> str:
    """RP-Initiated Logout §2: the client may send the signed ID token encrypted to our key."""
    if key is None:
        published = app.test_client().get(CERTS).get_json()["keys"]
        key = RSAKey.import_key(next(k for k in published if k["use"] == "enc"))
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "kid": key.kid}
    return jwe.encrypt_compact(header, signed_id_token, key, algorithms=["RSA-OAEP-256", "A256GCM"])


def test_logout_takes_the_id_token_re_encrypted_to_our_key(app, browser):
    client = register(
        app,
        "enc-logout",
        post_logout_redirect_uris=["http://localhost:3000/"],
        id_token_encrypted_response_alg="RSA-OAEP",
    )
    tokens = login_and_get_tokens(app, browser, client)
    _, signed_id_token = opened(tokens["id_token"])
    response = browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": reencrypted_to_us(app, signed_id_token.decode()),
            "post_logout_redirect_uri": "http://localhost:3000/",
            "state": "bye",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "http://localhost:3000/?state=bye"
    refresh = token_call(
        app, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.get_json()["error"] == "invalid_grant"  # the session ended


def test_logout_refuses_a_hint_we_cannot_open(app, browser):
    client = register(app, "enc-logout-bad", post_logout_redirect_uris=["http://localhost:3000/"])
    tokens = login_and_get_tokens(app, browser, client)
    # Encrypted to the client's key, as it came: not ours to open.
    hint = reencrypted_to_us(app, tokens["id_token"], key=CLIENT_KEY)
    response = browser.http.get(
        LOGOUT,
        query_string={"id_token_hint": hint, "post_logout_redirect_uri": "http://localhost:3000/"},
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert "Déconnexion impossible" in response.get_data(as_text=True)
    refresh = token_call(
        app, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.status_code == 200  # the session goes on


# --- UserInfo ----------------------------------------------------------------------------------
def userinfo(app, access_token: str):
    return app.test_client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})


@pytest.mark.parametrize(("alg", "enc"), [("RSA-OAEP", "A128GCM"), ("RSA-OAEP-256", "A256GCM")])
def test_userinfo_encrypted_json(app, browser, alg, enc):
    client = register(
        app,
        f"enc-ui-{alg}-{enc}".lower(),
        userinfo_encrypted_response_alg=alg,
        userinfo_encrypted_response_enc=enc,
    )
    tokens = login_and_get_tokens(app, browser, client)
    response = userinfo(app, tokens["access_token"])
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    assert response.headers["Cache-Control"] == "no-store"
    header, plaintext = opened(response.get_data(as_text=True))
    assert (header["alg"], header["enc"]) == (alg, enc) and "cty" not in header
    claims = json.loads(plaintext)
    assert claims["sub"].endswith(":899700218896") and "SubjectRefPro" in claims
    # The ID token was not asked to be encrypted: it is not.
    assert tokens["id_token"].count(".") == 2


def test_userinfo_signed_then_encrypted(app, browser):
    client = register(
        app,
        "enc-ui-signed",
        userinfo_signed_response_alg="PS256",
        userinfo_encrypted_response_alg="RSA-OAEP-256",
    )
    tokens = login_and_get_tokens(app, browser, client)
    response = userinfo(app, tokens["access_token"])
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    header, inner = opened(response.get_data(as_text=True))
    assert (header["cty"], header["enc"]) == ("JWT", "A128CBC-HS256")
    assert jws.extract_compact(inner).protected["alg"] == "PS256"
    claims = verified_claims(app, inner, client.client_id)
    assert claims["sub"].endswith(":899700218896")


def test_the_workers_app_answers_userinfo_encrypted_too(app, browser):
    """The server's workers answer plain UserInfo before Flask (protocol/direct.py): a client
    that registered encryption never gets its claims in clear from them either."""
    client = register(app, "enc-ui-workers", userinfo_encrypted_response_alg="RSA-OAEP")
    tokens = login_and_get_tokens(app, browser, client)
    response = WsgiClient(wrap(app)).get(
        USERINFO,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    _, plaintext = opened(response.get_data(as_text=True))
    assert json.loads(plaintext)["sub"].endswith(":899700218896")


# --- keys at a jwks_uri ------------------------------------------------------------------------
@dataclass
class JwksServer:
    base: str = ""
    #: path → (JWK set, seconds to wait before answering)
    documents: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    served = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            served.hits.append(self.path)
            document, delay = served.documents.get(self.path, ({}, 0.0))
            time.sleep(delay)
            body = json.dumps(document).encode() if document else b""
            self.send_response(200 if document else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the reader gave up
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    forget_cached_jwks()
    yield
    forget_cached_jwks()


def by_uri(app, jwks_server, client_id: str, path: str, **metadata: Any) -> RegisteredClient:
    return register(app, client_id, jwks=None, jwks_uri=jwks_server.url(path), **metadata)


def test_keys_from_the_jwks_uri_are_fetched_once_then_cached(
    app, browser, jwks_server, fresh_cache
):
    jwks_server.documents["/cached.json"] = (public_jwks(SIGNING_ONLY, CLIENT_KEY), 0.0)
    client = by_uri(
        app,
        jwks_server,
        "enc-uri-cached",
        "/cached.json",
        id_token_encrypted_response_alg="RSA-OAEP",
    )
    for _ in range(2):
        header, _ = opened(login_and_get_tokens(app, browser, client)["id_token"])
        assert header["kid"] == "rp-enc-1"
    assert jwks_server.hits.count("/cached.json") == 1


def test_a_cached_document_ages_out(make_app, jwks_server, fresh_cache):
    app = make_app(client_jwks_cache_lifetime=0)
    jwks_server.documents["/aged.json"] = (public_jwks(CLIENT_KEY), 0.0)
    client = by_uri(
        app, jwks_server, "enc-uri-aged", "/aged.json", id_token_encrypted_response_alg="RSA-OAEP"
    )
    browser = Browser(app)
    for _ in range(2):
        opened(login_and_get_tokens(app, browser, client)["id_token"])
    assert jwks_server.hits.count("/aged.json") == 2


def test_a_key_published_later_is_fetched_again(app, browser, jwks_server, fresh_cache):
    jwks_server.documents["/later.json"] = (public_jwks(SIGNING_ONLY), 0.0)
    client = by_uri(
        app, jwks_server, "enc-uri-later", "/later.json", id_token_encrypted_response_alg="RSA-OAEP"
    )
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    failed = exchange_code(app, client, callback["code"], verifier)
    assert unusable_key_error(failed)["error"] == "invalid_client"
    # Published since: the cached document has no key for it, so it is fetched again; and the
    # failed exchange kept nothing, not even the code's use.
    jwks_server.documents["/later.json"] = (public_jwks(SIGNING_ONLY, CLIENT_KEY), 0.0)
    tokens = exchange_code(app, client, callback["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    header, _ = opened(tokens.get_json()["id_token"])
    assert header["kid"] == "rp-enc-1"
    assert jwks_server.hits.count("/later.json") == 3  # cold, fresh after the miss, fresh again


def unusable_key_error(response) -> dict[str, Any]:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response.headers  # not a credentials problem
    body = response.get_json()
    assert "id_token" not in body and "access_token" not in body
    return body


def failed_token_request(app, browser, client: RegisteredClient) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    return unusable_key_error(exchange_code(app, client, callback["code"], verifier))


@pytest.mark.parametrize(
    ("path", "document", "delay"),
    [
        ("/missing.json", None, 0.0),  # 404
        ("/slow.json", public_jwks(CLIENT_KEY), 2.0),  # past PSC_CLIENT_JWKS_TIMEOUT
        ("/signing-only.json", public_jwks(SIGNING_ONLY), 0.0),
        ("/short.json", {"keys": [SHORT_KEY]}, 0.0),
        ("/not-a-set.json", {"keys": "none"}, 0.0),
    ],
)
def test_without_a_usable_key_the_token_endpoint_says_invalid_client(
    make_app, browser, jwks_server, fresh_cache, path, document, delay
):
    app = make_app(client_jwks_timeout=0.5)
    if document is not None:
        jwks_server.documents[path] = (document, delay)
    client = by_uri(
        app,
        jwks_server,
        f"enc-uri-bad{path.split('.')[0].replace('/', '-')}",
        path,
        id_token_encrypted_response_alg="RSA-OAEP-256",
    )
    body = failed_token_request(app, Browser(app), client)
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("ID token encryption: ")


def test_without_a_usable_key_userinfo_gives_the_bearer_error(
    app, browser, jwks_server, fresh_cache
):
    jwks_server.documents["/ui-gone.json"] = (public_jwks(SIGNING_ONLY, CLIENT_KEY), 0.0)
    client = by_uri(
        app,
        jwks_server,
        "enc-uri-userinfo",
        "/ui-gone.json",
        userinfo_encrypted_response_alg="RSA-OAEP",
    )
    tokens = login_and_get_tokens(app, browser, client)
    assert userinfo(app, tokens["access_token"]).status_code == 200
    forget_cached_jwks()
    jwks_server.documents["/ui-gone.json"] = (public_jwks(SIGNING_ONLY), 0.0)
    response = userinfo(app, tokens["access_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "SubjectRefPro" not in response.get_data(as_text=True)  # never the claims in clear
