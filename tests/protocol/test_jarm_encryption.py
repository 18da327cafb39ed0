"""Encrypted JARM responses (JARM §2.2, §3): the signed ``response`` JWT nested in a JWE to the
client's key when it registered ``authorization_encrypted_response_alg`` (and ``_enc``).

The client's side is joserfc's: it opens the JWE with its private key, then verifies the nested
JWS against the published JWKS, as test_jarm.py does for signed responses. A response that
cannot be encrypted never leaves in clear: the professional gets the French page."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, client_to_dict, validate
from psc_idp.protocol.models import AuthorizationCode, Client
from psc_idp.realm.loader import RealmInvalid, import_realm, read_realm_file
from tests.helpers import ISSUER_PATH, REDIRECT, RegisteredClient, exchange_code, pkce_pair
from tests.protocol.test_authorize_errors import request_params
from tests.protocol.test_encryption import (
    CLIENT_KEY,
    SIGNING_ONLY,
    fresh_cache,  # noqa: F401 (a fixture)
    opened,
    public_jwks,
    register,
)
from tests.protocol.test_jarm import MODES, login, response_parameter, verified

ENC_CLIENT = "jarm-enc"
#: Registered with an encryption algorithm but no key to encrypt with.
KEYLESS_CLIENT = "jarm-enc-keyless"


@pytest.fixture(scope="module")
def encrypting(app) -> RegisteredClient:
    return register(
        app,
        ENC_CLIENT,
        authorization_encrypted_response_alg="RSA-OAEP-256",
        authorization_encrypted_response_enc="A256GCM",
    )


@pytest.fixture(scope="module")
def keyless(app) -> RegisteredClient:
    return register(
        app,
        KEYLESS_CLIENT,
        jwks=public_jwks(SIGNING_ONLY),
        authorization_encrypted_response_alg="RSA-OAEP",
    )


def opened_claims(
    app, response: str, client_id: str, alg: str = "RS256"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JWE's header and the claims of the JWS inside it, each checked as the client does."""
    header, plaintext = opened(response)
    assert header["cty"] == "JWT" and header["kid"] == "rp-enc-1"
    return header, verified(app, plaintext.decode("ascii"), client_id, alg)


def codes_of(app, client_id: str) -> int:
    with app.app_context():
        return db.session.query(AuthorizationCode).filter_by(client_id=client_id).count()


def assert_french_page(answer) -> None:
    """The page, and nothing of the response: no redirect, no form, no code."""
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert answer.mimetype == "text/html" and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_data(as_text=True)
    assert "Réponse impossible à transmettre" in body
    assert REDIRECT not in body and 'name="response"' not in body


# --- discovery ---------------------------------------------------------------------------------
def test_discovery_advertises_the_id_tokens_algorithms(app):
    metadata = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    for part in ("alg", "enc"):
        advertised = metadata[f"authorization_encryption_{part}_values_supported"]
        assert advertised == metadata[f"id_token_encryption_{part}_values_supported"]
    assert "RSA-OAEP-256" in metadata["authorization_encryption_alg_values_supported"]


# --- responses ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_each_mode_carries_the_signed_jwt_encrypted(app, browser, encrypting, mode):
    verifier, challenge = pkce_pair()
    answer = login(
        browser,
        mode,
        ENC_CLIENT,
        state="st-enc",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    header, claims = opened_claims(app, response_parameter(answer, mode), ENC_CLIENT)
    assert (header["alg"], header["enc"]) == ("RSA-OAEP-256", "A256GCM")
    assert claims["state"] == "st-enc" and claims["session_state"]
    tokens = exchange_code(app, encrypting, claims["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()


def test_another_key_cannot_open_it(browser, encrypting):
    response = response_parameter(login(browser, "query.jwt", ENC_CLIENT), "query.jwt")
    with pytest.raises(JoseError):
        opened(response, RSAKey.generate_key(2048))


def test_the_enc_defaults_and_the_clients_signing_algorithm_is_kept(app, browser):
    register(
        app,
        "jarm-enc-es256",
        authorization_signed_response_alg="ES256",
        authorization_encrypted_response_alg="RSA-OAEP",
    )
    answer = login(browser, "fragment.jwt", "jarm-enc-es256")
    header, claims = opened_claims(
        app, response_parameter(answer, "fragment.jwt"), "jarm-enc-es256", "ES256"
    )
    assert (header["alg"], header["enc"]) == ("RSA-OAEP", "A128CBC-HS256")
    assert claims["code"]


def test_a_client_without_encryption_still_gets_a_jws(app, browser, clients):
    response = response_parameter(login(browser, "query.jwt"), "query.jwt")
    assert response.count(".") == 2 and verified(app, response)["code"]


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_an_error_is_encrypted_too(app, browser, encrypting, mode):
    params = request_params(ENC_CLIENT, scope="openid unknown_scope", response_mode=mode)
    answer = browser.http.get("/wallet/auth", query_string=params)
    _, claims = opened_claims(app, response_parameter(answer, mode), ENC_CLIENT)
    assert (claims["error"], claims["state"]) == ("invalid_scope", "st-1")
    assert "code" not in claims


def test_an_error_found_before_the_grant_is_encrypted(app, browser, encrypting):
    params = request_params(ENC_CLIENT, response_type=None, response_mode="jwt")
    answer = browser.http.get("/wallet/auth", query_string=params)
    _, claims = opened_claims(app, response_parameter(answer, "jwt"), ENC_CLIENT)
    assert claims["error"] == "invalid_request"


# --- a key that cannot be had ------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_no_key_to_encrypt_with_is_a_french_page_and_no_code(app, browser, keyless, mode):
    before = codes_of(app, KEYLESS_CLIENT)
    assert_french_page(login(browser, mode, KEYLESS_CLIENT))
    assert codes_of(app, KEYLESS_CLIENT) == before


def test_the_sso_answer_is_refused_the_same_way(app, browser, keyless):
    login(browser, "query")  # opens the session with another client
    again = browser.authorize(KEYLESS_CLIENT, response_mode="form_post.jwt")
    assert_french_page(again)


def test_an_error_without_a_key_is_a_french_page(browser, keyless):
    params = request_params(KEYLESS_CLIENT, scope="openid unknown_scope", response_mode="jwt")
    assert_french_page(browser.http.get("/wallet/auth", query_string=params))


def test_an_unreachable_jwks_uri_is_a_french_page(app, browser, fresh_cache):  # noqa: F811
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(
        app,
        "jarm-enc-unreachable",
        jwks=None,
        jwks_uri=f"http://127.0.0.1:{port}/jwks.json",
        authorization_encrypted_response_alg="RSA-OAEP",
    )
    assert_french_page(login(browser, "query.jwt", "jarm-enc-unreachable"))


# --- registration: API, realm file, CLI, export ------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "complaint"),
    [
        ({"authorization_encrypted_response_alg": "RSA1_5"}, "must be one of RSA-OAEP"),
        ({"authorization_encrypted_response_enc": "A128GCM"}, "needs authorization_encrypted"),
        ({"authorization_encrypted_response_alg": "RSA-OAEP", "jwks": None}, "needs jwks"),
    ],
)
def test_registration_refuses_what_cannot_work(metadata, complaint):
    entry = {
        "client_id": "jarm-enc-bad",
        "secret": "jarm-enc-bad-secret-of-at-least-32-octets",
        "redirect_uris": [REDIRECT],
        "jwks": public_jwks(CLIENT_KEY),
        **metadata,
    }
    with pytest.raises(InvalidClient, match=complaint):
        validate({k: v for k, v in entry.items() if v is not None})


def test_the_realm_file_takes_the_pair_and_the_export_keeps_it(app, tmp_path):
    path = tmp_path / "realm.yaml"
    entry = (
        "  - client_id: jarm-enc-realm\n"
        "    secret: jarm-enc-realm-secret-of-at-least-32-octets\n"
        f"    redirect_uris: [{REDIRECT}]\n"
    )
    path.write_text(f"clients:\n{entry}    authorization_encrypted_response_alg: RSA-OAEP\n")
    with pytest.raises(RealmInvalid) as caught:  # nothing to encrypt to
        read_realm_file(path)
    assert any("demande jwks ou jwks_uri" in line for line in caught.value.problems.lines())
    jwks = json.dumps(public_jwks(CLIENT_KEY))
    path.write_text(
        f"clients:\n{entry}    jwks: {jwks}\n"
        "    authorization_encrypted_response_alg: RSA-OAEP-256\n"
        "    authorization_encrypted_response_enc: A192GCM\n"
    )
    with app.app_context():
        import_realm(read_realm_file(path))
        db.session.commit()
        exported = client_to_dict(db.session.get(Client, "jarm-enc-realm"))
    assert exported["authorization_encrypted_response_alg"] == "RSA-OAEP-256"
    assert exported["authorization_encrypted_response_enc"] == "A192GCM"


def test_the_cli_sets_the_pair(app):
    result = app.test_cli_runner().invoke(
        args=[
            "clients",
            "add",
            "jarm-enc-cli",
            "--redirect-uri",
            REDIRECT,
            "--jwks-uri",
            "https://rp.example/jwks.json",
            "--authorization-encrypted-response-alg",
            "RSA-OAEP",
            "--authorization-encrypted-response-enc",
            "A128GCM",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        client = db.session.get(Client, "jarm-enc-cli")
        assert client.authorization_encrypted_response_alg == "RSA-OAEP"
        assert client.authorization_encrypted_response_enc == "A128GCM"
    refused = app.test_cli_runner().invoke(
        args=["clients", "update", "jarm-enc-cli", "--authorization-encrypted-response-alg", "x"]
    )
    assert refused.exit_code != 0
