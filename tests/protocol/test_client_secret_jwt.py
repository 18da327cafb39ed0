"""``client_secret_jwt`` (OIDC Core §9, RFC 7523): an assertion signed HS256/384/512 with the
client's secret, at the token, introspection, revocation, PAR and CIBA endpoints; the secret
sealed at rest; bad signatures counted by the client's lockout."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from psc_idp import lockout
from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, client_to_dict, upsert_client
from psc_idp.protocol.models import Client
from tests.defend.conftest import Clock, defaults
from tests.helpers import INTROSPECT, ISSUER_PATH, OIDC, REVOKE, TOKEN

ISSUER = f"http://localhost:8080{ISSUER_PATH}"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PAR = f"{OIDC}/ext/par/request"
CIBA_AUTH = f"{OIDC}/ext/ciba/auth"
REDIRECT = "http://localhost:3000/callback"


def register(app, **fields) -> tuple[str, str]:
    client_id = f"hs-{secrets.token_hex(4)}"
    secret = fields.pop("secret", secrets.token_urlsafe(48))
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "token_endpoint_auth_method": "client_secret_jwt",
                "secret": secret,
                "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
                "redirect_uris": [REDIRECT],
                **fields,
            }
        )
        db.session.commit()
    return client_id, secret


def assertion(client_id: str, key: str | bytes, alg: str = "HS256", **overrides) -> str:
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
    claims = {k: v for k, v in claims.items() if v is not None}
    secret = key.encode() if isinstance(key, str) else key
    return jwt.encode(claims, secret, algorithm=alg)


def form(signed: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **extra}


def token(app, signed: str):
    return app.test_client().post(TOKEN, data=form(signed, grant_type="client_credentials"))


def refused(response) -> str:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_client"
    return response.get_json()["error_description"]


@pytest.fixture(scope="module")
def hs_client(app) -> tuple[str, str]:
    return register(app)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_each_hmac_algorithm_authenticates(app, hs_client, alg):
    client_id, secret = hs_client
    response = token(app, assertion(client_id, secret, alg))
    assert response.status_code == 200, response.get_json()
    claims = jwt.decode(response.get_json()["access_token"], options={"verify_signature": False})
    assert claims["azp"] == client_id


@pytest.mark.parametrize(
    "audience", [ISSUER, f"{ISSUER}/protocol/openid-connect/token"], ids=["issuer", "token"]
)
def test_issuer_and_token_endpoint_are_audiences(app, hs_client, audience):
    client_id, secret = hs_client
    assert token(app, assertion(client_id, secret, aud=audience)).status_code == 200


def test_wrong_secret_is_refused(app, hs_client):
    client_id, _ = hs_client
    description = refused(token(app, assertion(client_id, secrets.token_urlsafe(48))))
    assert description == "Invalid client assertion signature"


def test_replayed_jti_is_refused(app, hs_client):
    client_id, secret = hs_client
    signed = assertion(client_id, secret)
    assert token(app, signed).status_code == 200
    assert refused(token(app, signed)) == "JWT ID is used before."


def test_expired_assertion_is_refused(app, hs_client):
    client_id, secret = hs_client
    past = int(time.time()) - 600
    signed = assertion(client_id, secret, iat=past - 60, exp=past)
    assert refused(token(app, signed)) == "The client assertion has expired"


@pytest.mark.parametrize(
    "audience",
    ["https://elsewhere.example/token", f"{ISSUER}/protocol/openid-connect/userinfo"],
)
def test_wrong_audience_is_refused(app, hs_client, audience):
    client_id, secret = hs_client
    assert refused(token(app, assertion(client_id, secret, aud=audience))) == "Invalid claim: 'aud'"


def test_issuer_must_be_the_client(app, hs_client):
    client_id, secret = hs_client
    assert refused(token(app, assertion(client_id, secret, iss="someone-else")))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_is_refused(app, hs_client):
    client_id, _ = hs_client
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "jti": str(uuid.uuid4()),
        "exp": now + 60,
    }
    head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{head}.{b64url(json.dumps(claims).encode())}."
    assert refused(token(app, unsigned)) == "Invalid client assertion signature"


def test_rs256_is_refused_for_a_secret_client(app, hs_client):
    client_id, _ = hs_client
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": ISSUER, "jti": "x", "exp": now + 60}
    signed = jwt.encode(claims, key, algorithm="RS256")
    assert refused(token(app, signed)) == "Invalid client assertion signature"


def test_hmac_is_refused_for_a_private_key_client(app, clients):
    # The private_key_jwt client's public key (or any value) must never key an HMAC.
    signed = assertion(clients.jwt.client_id, secrets.token_urlsafe(48))
    assert refused(token(app, signed)) == "Invalid client assertion signature"


def test_a_secret_client_cannot_use_basic_or_post(app, hs_client):
    client_id, secret = hs_client
    response = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    refused(response)


def test_a_basic_client_cannot_sign_with_its_secret(app, clients):
    signed = assertion(clients.web.client_id, clients.web.secret + "x" * 32)
    description = refused(token(app, signed))
    assert "cannot authenticate with method" in description


# Signed on purpose with too short a key: newer PyJWT warns, by a message filter (the lowest
# allowed PyJWT has no such warning class).
@pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum recommended")
def test_a_secret_too_short_for_the_algorithm_is_refused(app):
    client_id, secret = register(app, secret=secrets.token_urlsafe(24))  # 32 octets
    assert token(app, assertion(client_id, secret, "HS256")).status_code == 200
    assert refused(token(app, assertion(client_id, secret, "HS512"))) == (
        "The client secret is too short for HS512"
    )


def test_the_secret_is_sealed_at_rest_and_never_hashed(app, hs_client):
    client_id, secret = hs_client
    with app.app_context():
        stored = db.session.get(Client, client_id)
        assert stored.secret_hash is None
        assert stored.secret_sealed.startswith("s1.")
        assert secret not in stored.secret_sealed


def test_registration_refuses_a_short_or_missing_secret(app_context):
    base = {"client_id": "hs-short", "token_endpoint_auth_method": "client_secret_jwt"}
    with pytest.raises(InvalidClient, match="needs a secret"):
        upsert_client({**base, "grant_types": ["client_credentials"]})
    with pytest.raises(InvalidClient, match="at least 32 octets"):
        upsert_client({**base, "grant_types": ["client_credentials"], "secret": "too-short"})
    db.session.rollback()


def test_a_sealed_secret_bound_to_another_client_does_not_open(app, hs_client):
    client_id, _ = hs_client
    with app.app_context():
        sealed = db.session.get(Client, client_id).secret_sealed
        with pytest.raises(InvalidClient, match="does not open"):
            upsert_client(
                {
                    "client_id": "hs-copied",
                    "token_endpoint_auth_method": "client_secret_jwt",
                    "secret_sealed": sealed,
                    "grant_types": ["client_credentials"],
                }
            )
        db.session.rollback()


def test_the_same_secret_imported_again_changes_nothing(app, hs_client):
    client_id, secret = hs_client
    with app.app_context():
        exported = client_to_dict(db.session.get(Client, client_id), with_hash=True)
        _, changed = upsert_client({**exported, "secret": secret})
        assert changed is False
        _, changed = upsert_client(exported)  # the sealed form, as a realm export has it
        assert changed is False
        db.session.rollback()


# --- the other endpoints ----------------------------------------------------------------------
def test_introspection_and_revocation(app, hs_client):
    client_id, secret = hs_client
    access = token(app, assertion(client_id, secret)).get_json()["access_token"]
    http = app.test_client()
    introspected = http.post(INTROSPECT, data=form(assertion(client_id, secret), token=access))
    assert introspected.status_code == 200 and introspected.get_json()["active"] is True
    revoked = http.post(REVOKE, data=form(assertion(client_id, secret), token=access))
    assert revoked.status_code == 200
    after = http.post(INTROSPECT, data=form(assertion(client_id, secret), token=access))
    assert after.get_json() == {"active": False}
    wrong = http.post(INTROSPECT, data=form(assertion(client_id, "x" * 64), token=access))
    refused(wrong)


def test_pushed_authorization_request(app, hs_client):
    client_id, secret = hs_client
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
    }
    par_audience = f"{ISSUER}/protocol/openid-connect/ext/par/request"
    response = app.test_client().post(
        PAR, data=form(assertion(client_id, secret, aud=par_audience), **params)
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    refused(app.test_client().post(PAR, data=form(assertion(client_id, "y" * 64), **params)))


def test_ciba_request(app):
    client_id, secret = register(
        app, grant_types=["urn:openid:params:grant-type:ciba"], redirect_uris=[]
    )
    data = {"scope": "openid", "login_hint": "899700100151", "channel": "CARD"}
    response = app.test_client().post(CIBA_AUTH, data=form(assertion(client_id, secret), **data))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["auth_req_id"]
    refused(app.test_client().post(CIBA_AUTH, data=form(assertion(client_id, "z" * 64), **data)))


# --- lockout -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def defended(make_app):
    return make_app(**defaults())


def test_bad_signatures_count_and_lock_the_client(defended, monkeypatch):
    clock = Clock(monkeypatch)
    client_id, secret = register(defended)
    wrong = token(defended, assertion(client_id, secrets.token_urlsafe(48)))
    for _ in range(4):
        token(defended, assertion(client_id, secrets.token_urlsafe(48)))
    with defended.app_context():
        state = lockout.state(lockout.CLIENT, client_id)
    assert state.failures == 5 and state.locked(clock.now())
    good = token(defended, assertion(client_id, secret))
    assert (good.status_code, good.get_json()) == (wrong.status_code, wrong.get_json())
    with defended.app_context():
        assert lockout.state(lockout.CLIENT, client_id).failures == 6  # the refusal counted
    clock.advance(61)
    assert token(defended, assertion(client_id, secret)).status_code == 200
    with defended.app_context():
        assert lockout.state(lockout.CLIENT, client_id) is None  # a success clears the count


def test_claim_errors_of_a_good_signature_are_not_guesses(defended):
    client_id, secret = register(defended)
    past = int(time.time()) - 600
    refused(token(defended, assertion(client_id, secret, iat=past - 60, exp=past)))
    with defended.app_context():
        assert lockout.state(lockout.CLIENT, client_id) is None
