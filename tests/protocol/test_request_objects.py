"""Request objects (RFC 9101): an authorization request signed by the client, by value
(``request``) or fetched from a ``request_uri`` registered for it, at the authorization endpoint
and at PAR.

Only the signed parameters count; each refusal is ``invalid_request_object`` or
``invalid_request_uri`` at the registered redirect URI (JSON at PAR), with ``state`` and
``iss``; an unregistered URI is never fetched."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, client_to_dict, upsert_client, validate
from psc_idp.protocol.models import Client
from tests.helpers import (
    AUTHORIZE,
    ISSUER_PATH,
    OIDC,
    REDIRECT,
    RegisteredClient,
    basic,
    decode,
    exchange_code,
    pkce_pair,
    query_of,
)

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
PAR = f"{OIDC}/ext/par/request"
KEYED = "jar-keyed"  # client_secret_basic with registered keys
REQUIRED = "jar-required"  # the same, require_signed_request_object
HMAC = "jar-hmac"  # client_secret_jwt
SECRET = secrets.token_urlsafe(32)
HMAC_SECRET = secrets.token_urlsafe(48)


@dataclass
class Keys:
    rsa: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    other: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwks(self) -> dict:
        public_rsa = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        public_ec = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {"keys": [{**public_rsa, "kid": "rsa-1"}, {**public_ec, "kid": "ec-1"}]}


KEYS = Keys()
SIGNERS = {"RS256": (KEYS.rsa, "rsa-1"), "PS256": (KEYS.rsa, "rsa-1"), "ES256": (KEYS.ec, "ec-1")}


# --- a server of request objects: what it is asked for is recorded ---------------------------
@dataclass
class Served:
    base: str = ""
    routes: dict[str, tuple[int, bytes, float]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            served.hits.append(self.path)
            status, body, delay = served.routes.get(self.path, (404, b"", 0.0))
            time.sleep(min(delay, 3.0))
            self.send_response(status)
            if status == 302:
                self.send_header("Location", served.url("/elsewhere.jwt"))
            self.send_header("Content-Type", "application/oauth-authz-req+jwt")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the reader gave up (too slow, too large)
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


REGISTERED_PATHS = ("/ro.jwt", "/slow.jwt", "/big.jwt", "/moved.jwt", "/missing.jwt")


@pytest.fixture(scope="module")
def registered(app, served) -> dict[str, RegisteredClient]:
    common = {"redirect_uris": [REDIRECT], "grant_types": ["authorization_code"]}
    uris = [served.url(path) for path in REGISTERED_PATHS]
    with app.app_context():
        upsert_client(
            {"client_id": KEYED, "secret": SECRET, "jwks": KEYS.jwks(), "request_uris": uris}
            | common
        )
        upsert_client(
            {
                "client_id": REQUIRED,
                "secret": SECRET,
                "jwks": KEYS.jwks(),
                "require_signed_request_object": True,
            }
            | common
        )
        upsert_client(
            {
                "client_id": HMAC,
                "secret": HMAC_SECRET,
                "token_endpoint_auth_method": "client_secret_jwt",
            }
            | common
        )
        db.session.commit()
    return {
        KEYED: RegisteredClient(KEYED, SECRET),
        REQUIRED: RegisteredClient(REQUIRED, SECRET),
    }


# --- helpers -----------------------------------------------------------------------------------
def inner_params(client_id: str = KEYED, **overrides: Any) -> dict[str, Any]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "inner-state",
        "nonce": "inner-nonce",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


def signed(
    who: str = KEYED, alg: str = "RS256", key: Any = None, kid: Any = "", **claims: Any
) -> str:
    """A request object of client ``who``: its authorization parameters and the JWT claims
    (``claims`` override either; None drops one), signed."""
    now = int(time.time())
    body = {
        "iss": who,
        "aud": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **inner_params(who),
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    default_key, default_kid = SIGNERS.get(alg, (None, None))
    headers = {"typ": "oauth-authz-req+jwt"}
    if alg.startswith("HS"):
        key = key or HMAC_SECRET.encode()
    else:
        headers["kid"] = default_kid if kid == "" else kid
        key = key or default_key
    return jwt.encode(body, key, algorithm=alg, headers={k: v for k, v in headers.items() if v})


def authorize(browser, **query: str):
    return browser.http.get(AUTHORIZE, query_string=query)


def error_at_redirect(response) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    answer = query_of(location)
    assert answer["iss"] == ISSUER and "code" not in answer
    return answer


def starts_login(response) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/wallet/login/")


def french_page(response) -> str:
    assert response.status_code == 400
    assert response.mimetype == "text/html" and "Location" not in response.headers
    return response.get_data(as_text=True)


def finish_login(browser, response) -> dict[str, str]:
    starts_login(response)
    done = browser.pick_identity(response.headers["Location"])
    assert done.status_code == 302, done.get_data(as_text=True)
    return query_of(browser.http.get(done.headers["Location"]).headers["Location"])


def push(app, client: RegisteredClient, **form: str):
    return app.test_client().post(PAR, data=form, headers=basic(client.client_id, client.secret))


# --- by value ----------------------------------------------------------------------------------
def test_a_signed_request_logs_in_with_its_own_parameters_only(app, browser, registered):
    verifier, challenge = pkce_pair()
    request = signed(code_challenge=challenge)
    # RFC 9101 §6.3: what the query says besides is ignored, even a foreign redirect URI.
    response = authorize(
        browser,
        client_id=KEYED,
        request=request,
        state="outer-state",
        redirect_uri="https://evil.example/cb",
        scope="openid unknown_scope",
    )
    callback = finish_login(browser, response)
    assert callback["state"] == "inner-state" and callback["iss"] == ISSUER

    tokens = exchange_code(app, registered[KEYED], callback["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    claims = decode(tokens.get_json()["id_token"])
    assert (claims["aud"], claims["nonce"]) == (KEYED, "inner-nonce")


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_each_asymmetric_algorithm_with_the_clients_key(browser, registered, alg):
    starts_login(authorize(browser, client_id=KEYED, request=signed(alg=alg)))


def test_a_number_max_age_and_an_object_claims_are_parameters(browser, registered):
    claims = {"id_token": {"acr": {"essential": True, "values": ["eidas1"]}}}
    starts_login(authorize(browser, client_id=KEYED, request=signed(max_age=300, claims=claims)))


def test_an_hmac_with_the_secret_of_a_client_secret_jwt_client(browser, registered):
    starts_login(authorize(browser, client_id=HMAC, request=signed(HMAC, alg="HS256")))


def test_the_response_type_outside_must_match(browser, registered):
    request = signed()
    starts_login(authorize(browser, client_id=KEYED, response_type="code", request=request))
    answer = error_at_redirect(
        authorize(browser, client_id=KEYED, response_type="token", request=signed())
    )
    assert answer["error"] == "invalid_request_object"


def _none_alg() -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none"}').decode()
    claims = {"iss": KEYED, "aud": ISSUER, "exp": int(time.time()) + 60, **inner_params()}
    return f"{header}.{jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()}."


REFUSALS = {
    "bad-signature": lambda: signed(key=KEYS.other),
    "unknown-kid": lambda: signed(kid="no-such-key"),
    "ec-kid-with-rs256": lambda: signed(kid="ec-1"),
    "expired": lambda: signed(exp=int(time.time()) - 120),
    "no-exp": lambda: signed(exp=None),
    "exp-too-far": lambda: signed(exp=int(time.time()) + 30 * 86400),
    "iat-too-old": lambda: signed(iat=int(time.time()) - 30 * 86400),
    "not-yet-valid": lambda: signed(nbf=int(time.time()) + 600),
    "wrong-aud": lambda: signed(aud="https://other.example/realms/x"),
    "no-aud": lambda: signed(aud=None),
    "wrong-iss": lambda: signed(iss="test-web"),
    "client-id-mismatch": lambda: signed(client_id="test-web"),
    "no-client-id": lambda: signed(client_id=None),
    "alg-none": _none_alg,
    "hs256-of-a-secret-basic-client": lambda: signed(alg="HS256", key=SECRET.encode()),
    "nested-request-uri": lambda: signed(request_uri="https://evil.example/ro.jwt"),
    "list-valued-parameter": lambda: signed(scope=["openid"]),
    "not-a-jws": lambda: "not.a.jws",
    "wrong-typ": lambda: jwt.encode(
        {"iss": KEYED, "aud": ISSUER, "exp": int(time.time()) + 60, **inner_params()},
        KEYS.rsa,
        algorithm="RS256",
        headers={"kid": "rsa-1", "typ": "dpop+jwt"},
    ),
}


#: What each refusal says (``error_description``).
WHY = {
    "alg-none": "Unsupported request object algorithm",
    "bad-signature": "Invalid request object signature",
    "client-id-mismatch": "The client_id of the request object differs from the request's",
    "ec-kid-with-rs256": "No usable client key for the request object",
    "exp-too-far": "The request object expires too far in the future",
    "expired": "The request object has expired",
    "hs256-of-a-secret-basic-client": "Unsupported request object algorithm",
    "iat-too-old": "Invalid claim: 'iat'",
    "list-valued-parameter": "A request object parameter has a value of the wrong type",
    "nested-request-uri": "A request object cannot carry request or request_uri",
    "no-aud": "Missing claim: 'aud'",
    "no-client-id": "The client_id of the request object differs from the request's",
    "no-exp": "Missing claim: 'exp'",
    "not-a-jws": "The request object is not a JWS",
    "not-yet-valid": "The request object is not yet valid",
    "unknown-kid": "No usable client key for the request object",
    "wrong-aud": "Invalid claim: 'aud'",
    "wrong-iss": "Invalid claim: 'iss'",
    "wrong-typ": "Invalid request object type",
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_bad_request_object_is_refused_at_the_redirect_uri(browser, registered, name):
    answer = error_at_redirect(
        authorize(browser, client_id=KEYED, state="outer-state", request=REFUSALS[name]())
    )
    assert (answer["error"], answer["error_description"]) == ("invalid_request_object", WHY[name])
    assert answer["state"] == "outer-state"  # the only state known to be the client's


def test_a_jti_is_accepted_once(browser, registered):
    request = signed()
    starts_login(authorize(browser, client_id=KEYED, request=request))
    answer = error_at_redirect(authorize(browser, client_id=KEYED, request=request))
    assert answer["error"] == "invalid_request_object"
    assert answer["error_description"] == "The request object has already been used"


def test_both_request_and_request_uri_are_refused(browser, registered, served):
    response = authorize(
        browser, client_id=KEYED, request=signed(), request_uri=served.url("/ro.jwt")
    )
    assert error_at_redirect(response)["error"] == "invalid_request"


def test_an_error_never_goes_to_an_unregistered_redirect_uri(browser, registered):
    response = authorize(
        browser, client_id=KEYED, redirect_uri="https://evil.example/cb", request=_none_alg()
    )
    assert "invalid_request_object" in french_page(response)


def test_an_unknown_client_gets_the_french_page(browser, registered):
    french_page(authorize(browser, client_id="no-such-client", request=signed("no-such-client")))


# --- by reference ------------------------------------------------------------------------------
def test_a_registered_request_uri_is_fetched(browser, registered, served):
    served.routes["/ro.jwt"] = (200, signed().encode(), 0.0)
    starts_login(authorize(browser, client_id=KEYED, request_uri=served.url("/ro.jwt")))
    assert served.hits[-1] == "/ro.jwt"


def test_an_unregistered_request_uri_is_never_fetched(browser, registered, served):
    served.routes["/other.jwt"] = (200, signed().encode(), 0.0)
    for uri in (served.url("/other.jwt"), served.url("/ro.jwt?x=1"), "https://evil.example/x"):
        answer = error_at_redirect(authorize(browser, client_id=KEYED, request_uri=uri))
        assert answer["error"] == "invalid_request_uri"
    assert "/other.jwt" not in served.hits and "/ro.jwt?x=1" not in served.hits


def test_a_request_uri_that_is_too_slow(app, browser, registered, served, monkeypatch):
    monkeypatch.setattr(app.extensions["psc_settings"], "request_uri_timeout", 0.3)
    served.routes["/slow.jwt"] = (200, signed().encode(), 1.5)
    answer = error_at_redirect(
        authorize(browser, client_id=KEYED, request_uri=served.url("/slow.jwt"))
    )
    assert answer["error"] == "invalid_request_uri"


def test_a_request_uri_that_is_too_large(browser, registered, served):
    served.routes["/big.jwt"] = (200, b"e" * (64 * 1024), 0.0)
    answer = error_at_redirect(
        authorize(browser, client_id=KEYED, request_uri=served.url("/big.jwt"))
    )
    assert answer["error"] == "invalid_request_uri"
    assert answer["error_description"] == "The request object at request_uri is too large"


@pytest.mark.parametrize("path,status", [("/moved.jwt", 302), ("/missing.jwt", 404)])
def test_a_redirect_or_an_error_status_is_not_followed(browser, registered, served, path, status):
    served.routes[path] = (status, b"", 0.0)
    served.routes["/elsewhere.jwt"] = (200, signed().encode(), 0.0)
    answer = error_at_redirect(authorize(browser, client_id=KEYED, request_uri=served.url(path)))
    assert answer["error"] == "invalid_request_uri"
    assert "/elsewhere.jwt" not in served.hits


def test_a_fetched_object_is_verified_as_one_by_value(browser, registered, served):
    served.routes["/ro.jwt"] = (200, signed(key=KEYS.other).encode(), 0.0)
    answer = error_at_redirect(
        authorize(browser, client_id=KEYED, request_uri=served.url("/ro.jwt"))
    )
    assert answer["error"] == "invalid_request_object"


# --- require_signed_request_object -------------------------------------------------------------
def test_a_client_that_must_sign_is_refused_a_plain_request(browser, registered):
    plain = inner_params(REQUIRED, state="plain-state")
    answer = error_at_redirect(authorize(browser, **plain))
    assert (answer["error"], answer["state"]) == ("invalid_request", "plain-state")
    starts_login(authorize(browser, client_id=REQUIRED, request=signed(REQUIRED)))


def test_a_client_that_must_sign_pushes_a_request_object(app, browser, registered):
    client = registered[REQUIRED]
    refused = push(app, client, **inner_params(REQUIRED))
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_request"

    verifier, challenge = pkce_pair()
    pushed = push(
        app, client, client_id=REQUIRED, request=signed(REQUIRED, code_challenge=challenge)
    )
    assert pushed.status_code == 201, pushed.get_json()
    request_uri = pushed.get_json()["request_uri"]
    callback = finish_login(
        browser, authorize(browser, client_id=REQUIRED, request_uri=request_uri)
    )
    assert callback["state"] == "inner-state"
    tokens = exchange_code(app, client, callback["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    assert decode(tokens.get_json()["id_token"])["nonce"] == "inner-nonce"


# --- PAR ---------------------------------------------------------------------------------------
def test_par_stores_the_request_objects_parameters(app, browser, registered):
    pushed = push(app, registered[KEYED], request=signed(), state="body-state")
    assert pushed.status_code == 201, pushed.get_json()
    response = authorize(browser, client_id=KEYED, request_uri=pushed.get_json()["request_uri"])
    callback = finish_login(browser, response)
    assert callback["state"] == "inner-state"


@pytest.mark.parametrize("name", ["bad-signature", "alg-none", "client-id-mismatch", "expired"])
def test_par_refuses_a_bad_request_object_in_json(app, registered, name):
    response = push(app, registered[KEYED], client_id=KEYED, request=REFUSALS[name]())
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert "Location" not in response.headers
    assert response.get_json()["error"] == "invalid_request_object"


def test_par_still_refuses_a_request_uri(app, registered, served):
    response = push(app, registered[KEYED], request_uri=served.url("/ro.jwt"))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


# --- discovery and registration ----------------------------------------------------------------
def test_discovery_advertises_request_objects(app):
    metadata = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_uri_parameter_supported"] is True
    assert metadata["require_request_uri_registration"] is True
    assert metadata["request_object_signing_alg_values_supported"] == [
        "RS256",
        "PS256",
        "ES256",
        "HS256",
        "HS384",
        "HS512",
    ]


@pytest.mark.parametrize(
    "uri", ["http://app.example/ro.jwt", "ftp://app.example/ro.jwt", "/ro.jwt", "https://"]
)
def test_a_request_uri_must_be_https(uri):
    with pytest.raises(InvalidClient, match="request_uris"):
        validate(
            {"client_id": "x", "secret": SECRET, "redirect_uris": [REDIRECT], "request_uris": [uri]}
        )


def test_the_fields_round_trip(app_context, registered):
    data = client_to_dict(db.session.get(Client, KEYED))
    assert len(data["request_uris"]) == len(REGISTERED_PATHS)
    assert "require_signed_request_object" not in data
    assert client_to_dict(db.session.get(Client, REQUIRED))["require_signed_request_object"]
