"""openid-client (Node, v6) against a real server with what PSC's discovery advertises beyond the
basics: ``client_secret_jwt`` on every call the relying party makes (code, refresh,
introspection, revocation), as ``rp-flow.mjs`` runs it with ``PSC_CLIENT_AUTH``; the ``claims``
parameter of its first login (``PSC_CLAIMS``): an ID token claim beyond the scopes and an
essential ``acr``; a pairwise ``sub``, which openid-client requires to be the same at UserInfo
as in the ID token; signed request objects (RFC 9101, ``PSC_REQUEST_OBJECT``) by value at the
authorization endpoint and pushed through PAR, for a client that must sign every request;
signed authorization responses (JARM, ``PSC_RESPONSE_MODE``) in the query and in a form post,
verified by openid-client with the algorithm the client registered; encryption
(``PSC_DECRYPTION_KEY``, ``PSC_REQUEST_ENCRYPTION``): ID tokens and UserInfo that openid-client
decrypts with the client's key, request objects encrypted to the server's key with the jose
package, JARM responses encrypted to the client's key; DPoP (RFC 9449,
``PSC_DPOP``) for a client registered with ``--dpop-bound-tokens``: its code bound with
``dpop_jkt``, every token and UserInfo call with a proof, and, on a server that requires nonces,
openid-client's own answer to ``use_dpop_nonce``.

The client is registered on the running server with ``psc-idp clients add`` (its secret
generated and printed once), as an operator does. Needs ``node`` and ``npm ci`` in
tests/e2e/node."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.live_server import LiveServer
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENT_ID = "e2e-secret-jwt"
PUBLIC_SUB = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700218896"
EMAIL = "robert.specialiste0021889@example.org"  # the demo realm's doctor
CLAIMS = {
    "id_token": {"email": None, "acr": {"essential": True, "values": ["eidas1", "eidas3"]}},
    "userinfo": {"phone_number": None},
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (openid-client relying party)")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"openid-client is not installed: run `npm ci` in {NODE_DIR}")
    return node


def run_flow(server: LiveServer, client_id: str, secret: str, **env: str) -> dict[str, Any]:
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", server.issuer, client_id, secret],
        cwd=NODE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = {"ok": False, "steps": []}
    if completed.returncode != 0 or not report.get("ok"):
        pytest.fail(
            f"openid-client failed: {completed.stderr}\n--- server ---\n{server.output()[-4000:]}",
            pytrace=False,
        )
    return report


@pytest.fixture(scope="module")
def registered(live_server: LiveServer) -> str:
    created = run_cli(
        live_server,
        "clients",
        "add",
        CLIENT_ID,
        "--auth-method",
        "client_secret_jwt",
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "http://localhost:3000/",
        "--subject-type",
        "pairwise",
    )
    return created["client_secret"]


@pytest.fixture(scope="module")
def secret_jwt_flow(live_server: LiveServer, registered: str) -> dict[str, Any]:
    return run_flow(
        live_server,
        CLIENT_ID,
        registered,
        PSC_CLIENT_AUTH="client_secret_jwt",
        PSC_CLAIMS=json.dumps(CLAIMS),
    )


def test_discovery_advertises_client_secret_jwt(secret_jwt_flow):
    discovery = secret_jwt_flow["discovery"]
    assert "client_secret_jwt" in discovery["token_endpoint_auth_methods_supported"]
    assert {"HS256", "HS384", "HS512"} <= set(
        discovery["token_endpoint_auth_signing_alg_values_supported"]
    )


def test_every_call_authenticates_with_a_secret_signed_assertion(secret_jwt_flow):
    assert secret_jwt_flow["client_auth"] == "client_secret_jwt"
    assert [step["step"] for step in secret_jwt_flow["steps"] if not step["ok"]] == []
    assert secret_jwt_flow["tokens"]["has_refresh_token"] is True
    assert secret_jwt_flow["refresh"]["rotated"] is True
    introspection = secret_jwt_flow["introspection"]
    assert introspection["active"] is True and introspection["client_id"] == CLIENT_ID
    assert secret_jwt_flow["revocation"]["next_refresh"]["error"] == "invalid_grant"
    assert secret_jwt_flow["id_token"]["azp"] == CLIENT_ID


def test_the_claims_parameter_is_honoured(secret_jwt_flow):
    assert secret_jwt_flow["discovery"]["claims_parameter_supported"] is True
    id_token = secret_jwt_flow["id_token"]
    assert id_token["email"] == EMAIL
    assert id_token["acr"] == "eidas1"  # MOBILE, one of the essential values
    assert secret_jwt_flow["userinfo"]["phone_number"] == "06 00 00 00 01"
    assert "phone_number" not in id_token


def test_the_pairwise_sub_is_the_same_everywhere(secret_jwt_flow):
    assert secret_jwt_flow["discovery"]["subject_types_supported"] == ["public", "pairwise"]
    sub = secret_jwt_flow["id_token"]["sub"]
    assert sub != PUBLIC_SUB and "899700218896" not in sub
    assert secret_jwt_flow["userinfo"]["sub"] == sub  # openid-client checked it too
    assert secret_jwt_flow["introspection"]["sub"] == sub
    assert secret_jwt_flow["sso_login"]["sub"] == sub
    assert secret_jwt_flow["refresh"]["id_token_sub"] == sub


def test_a_wrong_secret_fails_at_the_token_endpoint(live_server: LiveServer, registered: str):
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", live_server.issuer, CLIENT_ID, registered[::-1]],
        cwd=NODE_DIR,
        env={**os.environ, "PSC_CLIENT_AUTH": "client_secret_jwt"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1 and report["ok"] is False
    assert report["failure"]["step"] == "authorization_code_grant"
    # A 401 with its WWW-Authenticate challenge, which openid-client reports as such.
    failure = report["failure"]
    assert failure["status"] == 401
    assert [c["parameters"]["error"] for c in failure["cause"]] == ["invalid_client"]


# --- signed request objects (JAR) ------------------------------------------------------------
JAR_CLIENT = "e2e-jar"
JAR_KID = "e2e-jar-es256"


@pytest.fixture(scope="module")
def jar_key() -> dict[str, Any]:
    """The client's EC P-256 key, as a private JWK (openid-client signs with it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return {**json.loads(ECAlgorithm.to_jwk(key)), "kid": JAR_KID, "alg": "ES256"}


@contextlib.contextmanager
def served_jwks(*private_jwks: dict[str, Any]) -> Iterator[str]:
    """The public halves of ``private_jwks``, served where psc-idp fetches them (a
    ``jwks_uri``)."""
    private = {"d", "p", "q", "dp", "dq", "qi"}
    public = [
        {name: value for name, value in jwk.items() if name not in private} for jwk in private_jwks
    ]
    document = json.dumps({"keys": public}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def jwks_uri(jar_key: dict[str, Any]) -> Iterator[str]:
    with served_jwks(jar_key) as uri:
        yield uri


@pytest.fixture(scope="module")
def jar_secret(live_server: LiveServer, jwks_uri: str) -> str:
    created = run_cli(
        live_server,
        "clients",
        "add",
        JAR_CLIENT,
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "http://localhost:3000/",
        "--jwks-uri",
        jwks_uri,
        "--require-signed-request-object",
    )
    assert created["require_signed_request_object"] is True
    return created["client_secret"]


@pytest.fixture(scope="module", params=["jar", "par"])
def jar_flow(request, live_server: LiveServer, jar_secret: str, jar_key) -> dict[str, Any]:
    return run_flow(
        live_server,
        JAR_CLIENT,
        jar_secret,
        PSC_REQUEST_OBJECT=request.param,
        PSC_REQUEST_KEY=json.dumps(jar_key),
    )


def test_a_whole_login_with_a_signed_request_object(jar_flow):
    discovery = jar_flow["discovery"]
    assert discovery["request_parameter_supported"] is True
    assert discovery["request_uri_parameter_supported"] is True
    assert "ES256" in discovery["request_object_signing_alg_values_supported"]
    assert [step["step"] for step in jar_flow["steps"] if not step["ok"]] == []
    # Only the object (or the pushed request naming it) travels through the browser.
    outside = {"jar": ["client_id", "request"], "par": ["client_id", "request_uri"]}
    assert jar_flow["login"]["authorization_parameters"] == outside[jar_flow["request_object"]]
    assert jar_flow["login"]["picker_shown"] is True
    # openid-client checked state, nonce and PKCE, all of them inside the signed object.
    assert jar_flow["id_token"]["azp"] == JAR_CLIENT
    assert jar_flow["id_token"]["acr"] == "eidas1"
    assert jar_flow["sso_login"]["picker_shown"] is False
    assert jar_flow["logout"]["picker_after_logout"] is True


def test_a_client_that_must_sign_is_refused_a_plain_request(live_server, jar_secret):
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", live_server.issuer, JAR_CLIENT, jar_secret],
        cwd=NODE_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1 and report["ok"] is False
    # The error came back to the registered redirect URI, where openid-client read it.
    assert report["failure"]["step"] == "authorization_code_grant"
    assert report["failure"]["error"] == "invalid_request"


# --- signed authorization responses (JARM) ---------------------------------------------------
JARM_CLIENT = "e2e-jarm"


@pytest.fixture(scope="module")
def jarm_secret(live_server: LiveServer) -> str:
    created = run_cli(
        live_server,
        "clients",
        "add",
        JARM_CLIENT,
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "http://localhost:3000/",
        "--authorization-signed-response-alg",
        "ES256",
    )
    assert created["authorization_signed_response_alg"] == "ES256"
    return created["client_secret"]


@pytest.fixture(scope="module", params=["jwt", "form_post.jwt"])
def jarm_flow(request, live_server: LiveServer, jarm_secret: str) -> dict[str, Any]:
    return run_flow(
        live_server,
        JARM_CLIENT,
        jarm_secret,
        PSC_RESPONSE_MODE=request.param,
        PSC_AUTHORIZATION_ALG="ES256",
    )


def test_a_whole_login_with_signed_authorization_responses(jarm_flow):
    discovery = jarm_flow["discovery"]
    assert {"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"} <= set(
        discovery["response_modes_supported"]
    )
    assert "ES256" in discovery["authorization_signing_alg_values_supported"]
    assert [step["step"] for step in jarm_flow["steps"] if not step["ok"]] == []
    # Only the JWT reached the client, by the way the mode says; openid-client verified its
    # signature (ES256, as registered), iss, aud, exp and the state inside.
    login = jarm_flow["login"]
    assert login["callback_parameters"] == ["response"]
    method = {"jwt": "GET", "form_post.jwt": "POST"}[jarm_flow["response_mode"]]
    assert login["callback_method"] == method
    assert login["response_header"]["alg"] == "ES256" and login["response_header"]["kid"]
    assert jarm_flow["id_token"]["azp"] == JARM_CLIENT
    # The single sign-on answer, without la mire, is a JWT too (openid-client would refuse
    # anything else).
    assert jarm_flow["sso_login"]["picker_shown"] is False


def test_a_client_expecting_another_algorithm_refuses_the_response(live_server, jarm_secret):
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", live_server.issuer, JARM_CLIENT, jarm_secret],
        cwd=NODE_DIR,
        env={**os.environ, "PSC_RESPONSE_MODE": "jwt", "PSC_AUTHORIZATION_ALG": "RS256"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1 and report["ok"] is False
    assert report["failure"]["step"] == "authorization_code_grant"
    failure = report["failure"]
    assert failure["code"] == "OAUTH_INVALID_RESPONSE"
    assert failure["cause"]["message"] == 'unexpected JWT "alg" header parameter'


# --- DPoP (RFC 9449) ---------------------------------------------------------------------------
DPOP_CLIENT = "e2e-dpop"


def _register_dpop_client(server: LiveServer) -> str:
    created = run_cli(
        server,
        "clients",
        "add",
        DPOP_CLIENT,
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "http://localhost:3000/",
        "--dpop-bound-tokens",
    )
    assert created["dpop_bound_access_tokens"] is True
    return created["client_secret"]


@pytest.fixture(scope="module")
def dpop_secret(live_server: LiveServer) -> str:
    return _register_dpop_client(live_server)


def _check_dpop_flow(report: dict[str, Any]) -> None:
    assert [step["step"] for step in report["steps"] if not step["ok"]] == []
    assert "ES256" in report["discovery"]["dpop_signing_alg_values_supported"]
    assert "dpop_jkt" in report["login"]["authorization_parameters"]
    # openid-client lowercases the token type it was given.
    assert report["tokens"]["token_type"] == "dpop"
    assert report["refresh"]["token_type"] == "dpop"
    assert report["userinfo"]["sub"] == report["id_token"]["sub"]
    introspection = report["introspection"]
    assert introspection["active"] is True and introspection["token_type"] == "DPoP"
    assert introspection["cnf"] == {"jkt": report["dpop_jkt"]}


def test_a_whole_login_with_dpop_bound_tokens(live_server, dpop_secret):
    _check_dpop_flow(run_flow(live_server, DPOP_CLIENT, dpop_secret, PSC_DPOP="1"))


def test_a_dpop_client_without_proofs_is_refused(live_server, dpop_secret):
    completed = subprocess.run(
        [_node(), "rp-flow.mjs", live_server.issuer, DPOP_CLIENT, dpop_secret],
        cwd=NODE_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1 and report["ok"] is False
    assert report["failure"]["step"] == "authorization_code_grant"
    assert report["failure"]["error"] == "invalid_dpop_proof"


@pytest.fixture(scope="module")
def nonce_server() -> Iterator[LiveServer]:
    """A server of its own that requires DPoP nonces (``PSC_DPOP_NONCE=1``)."""
    with LiveServer(env={"PSC_DPOP_NONCE": "1"}, workers=1) as server:
        yield server


def _proof_without_nonce(url: str) -> str:
    key = ECKey.generate_key("P-256")
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims = {"jti": uuid.uuid4().hex, "htm": "POST", "htu": url, "iat": int(time.time())}
    return jose_jwt.encode(header, claims, key, algorithms=["ES256"])


def test_openid_client_answers_the_servers_nonce(nonce_server):
    secret = _register_dpop_client(nonce_server)
    # The server does ask: a proof without a nonce is refused with one to use.
    token_url = f"{nonce_server.issuer}/protocol/openid-connect/token"
    request = urllib.request.Request(
        token_url,
        data=b"grant_type=client_credentials",
        headers={"DPoP": _proof_without_nonce(token_url)},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and refused.value.headers["DPoP-Nonce"]
    assert json.loads(refused.value.read())["error"] == "use_dpop_nonce"
    _check_dpop_flow(run_flow(nonce_server, DPOP_CLIENT, secret, PSC_DPOP="1"))


# --- encryption (JWE) --------------------------------------------------------------------------
ENC_CLIENT = "e2e-jwe"


@pytest.fixture(scope="module")
def decryption_key() -> dict[str, Any]:
    """The client's RSA key, as a private JWK: openid-client decrypts with it."""
    key = rsa.generate_private_key(65537, 2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.pop("key_ops", None)
    return {**jwk, "kid": "e2e-jwe-rsa", "alg": "RSA-OAEP-256", "use": "enc"}


@pytest.fixture(scope="module")
def jwe_secret(live_server: LiveServer, jar_key, decryption_key) -> Iterator[str]:
    with served_jwks(jar_key, decryption_key) as uri:
        created = run_cli(
            live_server,
            "clients",
            "add",
            ENC_CLIENT,
            "--redirect-uri",
            "http://localhost:3000/callback",
            "--post-logout-redirect-uri",
            "http://localhost:3000/",
            "--jwks-uri",
            uri,
            "--require-signed-request-object",
            "--id-token-encrypted-response-alg",
            "RSA-OAEP-256",
            "--id-token-encrypted-response-enc",
            "A256GCM",
            # openid-client reads an application/jwt UserInfo as a JWT: signed, then encrypted.
            "--userinfo-signed-response-alg",
            "RS256",
            "--userinfo-encrypted-response-alg",
            "RSA-OAEP-256",
            "--request-object-encryption-alg",
            "RSA-OAEP-256",
        )
        assert created["id_token_encrypted_response_alg"] == "RSA-OAEP-256"
        yield created["client_secret"]


@pytest.fixture(scope="module", params=["jar", "par"])
def jwe_flow(request, live_server, jwe_secret, jar_key, decryption_key) -> dict[str, Any]:
    return run_flow(
        live_server,
        ENC_CLIENT,
        jwe_secret,
        PSC_REQUEST_OBJECT=request.param,
        PSC_REQUEST_KEY=json.dumps(jar_key),
        PSC_REQUEST_ENCRYPTION="RSA-OAEP-256/A256GCM",
        PSC_DECRYPTION_KEY=json.dumps(decryption_key),
    )


def test_a_whole_login_with_everything_encrypted(jwe_flow):
    discovery = jwe_flow["discovery"]
    for name in ("id_token", "userinfo", "request_object"):
        assert "RSA-OAEP-256" in discovery[f"{name}_encryption_alg_values_supported"]
    assert [step["step"] for step in jwe_flow["steps"] if not step["ok"]] == []
    # The server opened the encrypted request object: the login went through with it.
    assert jwe_flow["request_encryption"]["alg"] == "RSA-OAEP-256"
    assert jwe_flow["login"]["picker_shown"] is True
    # The ID token came as a JWE, which openid-client opened and then verified.
    jwe_header = jwe_flow["id_token_jwe"]
    assert jwe_flow["id_token_jwe"]["segments"] == 5
    assert (jwe_header["header"]["enc"], jwe_header["header"]["cty"]) == ("A256GCM", "JWT")
    assert jwe_header["header"]["kid"] == "e2e-jwe-rsa"
    assert jwe_flow["id_token"]["azp"] == ENC_CLIENT
    assert jwe_flow["refresh"]["id_token_segments"] == 5
    # UserInfo: decrypted, its signature and its sub checked by openid-client.
    assert jwe_flow["userinfo"]["sub"] == jwe_flow["id_token"]["sub"]
    assert "SubjectRefPro" in jwe_flow["userinfo"]
    # Logout with the signed ID token from inside the JWE (RP-Initiated Logout §2).
    assert jwe_flow["logout"]["picker_after_logout"] is True


JARM_ENC_CLIENT = "e2e-jarm-jwe"


@pytest.fixture(scope="module")
def jarm_jwe_secret(live_server: LiveServer, decryption_key) -> Iterator[str]:
    with served_jwks(decryption_key) as uri:
        created = run_cli(
            live_server,
            "clients",
            "add",
            JARM_ENC_CLIENT,
            "--redirect-uri",
            "http://localhost:3000/callback",
            "--post-logout-redirect-uri",
            "http://localhost:3000/",
            "--jwks-uri",
            uri,
            "--authorization-encrypted-response-alg",
            "RSA-OAEP-256",
            "--authorization-encrypted-response-enc",
            "A128GCM",
        )
        assert created["authorization_encrypted_response_alg"] == "RSA-OAEP-256"
        yield created["client_secret"]


@pytest.mark.parametrize("mode", ["jwt", "form_post.jwt"])
def test_a_whole_login_with_encrypted_authorization_responses(
    live_server, jarm_jwe_secret, decryption_key, mode
):
    flow = run_flow(
        live_server,
        JARM_ENC_CLIENT,
        jarm_jwe_secret,
        PSC_RESPONSE_MODE=mode,
        PSC_DECRYPTION_KEY=json.dumps(decryption_key),
    )
    assert [step["step"] for step in flow["steps"] if not step["ok"]] == []
    # The `response` was a JWE to the client's key, which openid-client opened, then verified
    # the signed JWT inside (RS256, the default) before exchanging the code.
    login = flow["login"]
    assert login["callback_parameters"] == ["response"]
    header = login["response_header"]
    assert header["segments"] == 5 and header["cty"] == "JWT"
    assert (header["alg"], header["enc"], header["kid"]) == (
        "RSA-OAEP-256",
        "A128GCM",
        "e2e-jwe-rsa",
    )
    assert flow["id_token"]["azp"] == JARM_ENC_CLIENT
    assert flow["sso_login"]["picker_shown"] is False
