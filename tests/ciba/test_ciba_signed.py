"""CIBA signed authentication requests (CIBA Core §7.1.1) and ``login_hint_token``.

A signed request carries every parameter in a ``request`` JWS of the client (its registered
keys, an asymmetric algorithm), with ``iss``, ``aud``, ``exp``, ``iat``, ``nbf`` and ``jti``; only
the client's authentication travels beside it; its ``jti`` is accepted once, on any instance.
A ``login_hint_token`` is a JWT of the client whose ``sub_id`` (RFC 9493) names the
professional. Each refusal is CIBA's error JSON (§13)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt
import pytest

from psc_idp.extensions import db
from psc_idp.protocol.clients import upsert_client
from tests.ciba.conftest import CIBA_AUTH, GRANT, Dpi
from tests.helpers import ISSUER_PATH, basic, decode, login_and_get_tokens
from tests.means.ecps.helpers import activate_by_contact
from tests.protocol.test_request_objects import Keys

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
NURSE = "899700100490"
PUBLIC_SUB = f"f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:{NURSE}"
CLIENT = "dpi-signed"
KEYS = Keys()
SIGNERS = {"RS256": (KEYS.rsa, "rsa-1"), "PS256": (KEYS.rsa, "rsa-1"), "ES256": (KEYS.ec, "ec-1")}


@pytest.fixture(scope="module")
def signer(app) -> Dpi:
    """A DPI with registered keys: it signs its requests and its login hint tokens."""
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": CLIENT,
                "name": "DPI signé",
                "secret": secret,
                "jwks": KEYS.jwks(),
                "grant_types": [GRANT],
            }
        )
        db.session.commit()
    return Dpi(app, CLIENT, secret)


def jws(alg: str = "RS256", key: Any = None, **claims: Any) -> str:
    """A JWT of the client (``claims`` None drops one)."""
    default_key, kid = SIGNERS.get(alg, (None, None))
    body = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(body, key or default_key, algorithm=alg, headers=headers)


def signed_request(alg: str = "RS256", key: Any = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": CLIENT,
        "aud": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        "scope": "openid scope_all",
        "login_hint": NURSE,
        "binding_message": "17",
        **claims,
    }
    return jws(alg, key, **body)


def hint_token(sub_id: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": CLIENT, "aud": ISSUER, "exp": now + 60, "sub_id": sub_id, **claims}
    return jws(**body)


def send(app, dpi: Dpi, **form: str):
    """The request as the DPI posts it: its authentication, then ``form`` alone."""
    return app.test_client().post(CIBA_AUTH, data=form, headers=basic(dpi.client_id, dpi.secret))


def refused(response, error: str = "invalid_request") -> str:
    assert response.status_code == 400, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["error"] == error
    return response.get_json()["error_description"]


# --- discovery -----------------------------------------------------------------------------------
def test_discovery_advertises_asymmetric_request_signing(app):
    metadata = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    algs = metadata["backchannel_authentication_request_signing_alg_values_supported"]
    assert algs == ["RS256", "PS256", "ES256"]


# --- signed requests ----------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_a_signed_request_is_honoured_with_its_own_parameters(app, signer, alg):
    phone = activate_by_contact(app, NURSE, pin="1357")
    # A number for requested_expiry, as a JSON claim may be.
    asked = send(app, signer, request=signed_request(alg, requested_expiry=90))
    assert asked.status_code == 200, asked.get_json()
    assert asked.get_json()["expires_in"] == 90
    pending = next(r for r in phone.pending() if r["kind"] == "ciba")
    assert (pending["binding_message"], pending["client_name"]) == ("17", "DPI signé")
    assert phone.decide(pending, "approve", pin="1357").status_code == 200
    tokens = signer.poll(asked.get_json()["auth_req_id"])
    assert tokens.status_code == 200, tokens.get_json()
    assert decode(tokens.get_json()["id_token"])["SubjectNameID"] == NURSE


def _none_alg() -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none"}').decode()
    claims = jwt.utils.base64url_encode(b'{"iss":"dpi-signed","login_hint":"899700100490"}')
    return f"{header}.{claims.decode()}."


REFUSALS = {
    "bad-signature": (
        lambda: signed_request(key=KEYS.other),
        "Invalid request object signature",
    ),
    "expired": (
        lambda: signed_request(exp=int(time.time()) - 120),
        "The request object has expired",
    ),
    "not-yet-valid": (
        lambda: signed_request(nbf=int(time.time()) + 600),
        "The request object is not yet valid",
    ),
    "wrong-aud": (lambda: signed_request(aud="https://other.example"), "Invalid claim: 'aud'"),
    "wrong-iss": (lambda: signed_request(iss="dpi-test"), "Invalid claim: 'iss'"),
    "hmac": (
        lambda: signed_request("HS256", key=b"k" * 32),
        "Unsupported request object algorithm",
    ),
    "alg-none": (_none_alg, "Unsupported request object algorithm"),
    "not-a-jws": (lambda: "not.a.jws", "The request object is not a JWS"),
    "nested-request": (
        lambda: signed_request(request="x"),
        "A request object cannot carry request or request_uri",
    ),
    "other-client-id": (
        lambda: signed_request(client_id="dpi-test"),
        "The client_id of the signed request is not the client's",
    ),
    **{
        f"no-{claim}": (lambda claim=claim: signed_request(**{claim: None}), f"'{claim}'")
        for claim in ("iss", "aud", "exp", "iat", "nbf", "jti")
    },
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_bad_signed_request_is_refused(app, signer, name):
    make, why = REFUSALS[name]
    assert why in refused(send(app, signer, request=make()))


def test_a_missing_claim_is_named(app, signer):
    description = refused(send(app, signer, request=signed_request(jti=None)))
    assert description == "Missing claim: 'jti'"


def test_a_replayed_jti_is_refused_on_every_instance(make_app, app, signer):
    activate_by_contact(app, NURSE)
    request = signed_request()
    assert send(app, signer, request=request).status_code == 200
    assert refused(send(app, signer, request=request)) == "The request object has already been used"
    other = make_app()  # a second instance, on the same database
    assert refused(send(other, signer, request=request)) == (
        "The request object has already been used"
    )
    fresh = signed_request(jti=str(uuid.uuid4()))  # the same content, a new jti: accepted
    assert send(other, signer, request=fresh).status_code == 200


@pytest.mark.parametrize("outside", ["login_hint", "scope", "binding_message", "channel"])
def test_parameters_outside_the_signed_request_are_refused(app, signer, outside):
    activate_by_contact(app, NURSE)
    response = send(app, signer, request=signed_request(), **{outside: "x"})
    assert "Only client authentication" in refused(response)


def test_the_signed_parameters_are_checked_as_the_plain_ones(app, signer):
    response = send(app, signer, request=signed_request(login_hint="899700999990"))
    refused(response, "unknown_user_id")
    response = send(app, signer, request=signed_request(scope="scope_all"))
    assert refused(response) == "scope must contain openid"
    response = send(app, signer, request=signed_request(binding_message="<b>"))
    refused(response, "invalid_binding_message")
    response = send(app, signer, request=signed_request(acr_values=["eidas1"]))
    assert "wrong type" in refused(response)


def test_a_client_without_keys_cannot_sign(app, dpi):
    response = send(app, dpi, request=signed_request(iss=dpi.client_id))
    assert refused(response) == "No usable client key for the request object"


# --- login_hint_token ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sub_id",
    [{"format": "opaque", "id": NURSE}, {"format": "iss_sub", "iss": ISSUER, "sub": PUBLIC_SUB}],
    ids=["opaque", "iss_sub"],
)
def test_a_login_hint_token_names_the_professional(app, signer, sub_id):
    phone = activate_by_contact(app, NURSE, pin="2468")
    asked = signer.ask(login_hint_token=hint_token(sub_id), binding_message="23")
    assert asked.status_code == 200, asked.get_json()
    pending = next(r for r in phone.pending() if r["binding_message"] == "23")
    assert phone.decide(pending, "approve", pin="2468").status_code == 200
    tokens = signer.poll(asked.get_json()["auth_req_id"])
    assert decode(tokens.get_json()["id_token"])["SubjectNameID"] == NURSE


def test_a_login_hint_token_inside_a_signed_request(app, signer):
    activate_by_contact(app, NURSE)
    token = hint_token({"format": "opaque", "id": NURSE})
    request = signed_request(login_hint=None, login_hint_token=token)
    assert send(app, signer, request=request).status_code == 200


BAD_TOKENS = {
    "expired": (
        lambda: hint_token({"format": "opaque", "id": NURSE}, exp=int(time.time()) - 120),
        "expired_login_hint_token",
    ),
    "bad-signature": (
        lambda: jws(key=KEYS.other, iss=CLIENT, aud=ISSUER, exp=int(time.time()) + 60),
        "invalid_request",
    ),
    "not-a-jws": (lambda: "x", "invalid_request"),
    "no-sub_id": (lambda: hint_token(None), "invalid_request"),
    "wrong-aud": (
        lambda: hint_token({"format": "opaque", "id": NURSE}, aud="https://other.example"),
        "invalid_request",
    ),
    "email-format": (lambda: hint_token({"format": "email", "email": "a@b.fr"}), "invalid_request"),
    "unknown-professional": (
        lambda: hint_token({"format": "opaque", "id": "899700999990"}),
        "unknown_user_id",
    ),
    "other-issuer": (
        lambda: hint_token({"format": "iss_sub", "iss": "https://other.example", "sub": NURSE}),
        "unknown_user_id",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_a_bad_login_hint_token_is_refused(app, signer, name):
    make, error = BAD_TOKENS[name]
    refused(signer.ask(login_hint_token=make()), error)


def test_exactly_one_hint(app, signer, browser, clients):
    token = hint_token({"format": "opaque", "id": NURSE})
    id_token = login_and_get_tokens(app, browser, clients.web)["id_token"]
    for extra in ({"login_hint": NURSE}, {"id_token_hint": id_token}):
        description = refused(signer.ask(login_hint_token=token, **extra))
        assert description.startswith("Exactly one of login_hint, id_token_hint or")
