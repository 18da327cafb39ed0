"""Token exchange (RFC 8693) at the demo API's authorization server, in process: the whole
chain (PSC token → exchange → demo API), then each refusal with its RFC error."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from psc_idp.audit import AuditEvent
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from psc_idp.protocol.tokens import sign
from tests.api_as.conftest import (
    DEMO,
    DEMO_ISSUER,
    EXCHANGE,
    FIRST_PLACE,
    JWT,
    LPS,
    NO_EXCHANGE,
    SECOND_PLACE,
    TWO_PLACES,
    exchange,
    psc_token,
)
from tests.helpers import REVOKE, Browser, decode, login_and_get_tokens

ME = "/demo-api/me"
USERINFO = f"/api-as/realms/{DEMO}/protocol/openid-connect/userinfo"


def thumbprint_of(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def verified(app, token: str) -> dict:
    """Checked with the API issuer's published JWKS, as a resource server would."""
    jwks = app.test_client().get(f"/api-as/realms/{DEMO}/protocol/openid-connect/certs")
    keys = jwt.PyJWKSet.from_dict(jwks.get_json())
    key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=DEMO, issuer=DEMO_ISSUER)


def error_of(response) -> tuple[int, str, str]:
    body = response.get_json()
    return response.status_code, body["error"], body["error_description"]


# --- the chain -----------------------------------------------------------------------------
def test_the_whole_chain(app, pki):
    subject = psc_token(app, pki.mine)
    response = exchange(app, pki.mine, subject_token=subject, subject_issuer="psc")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    assert body["scope"] == "demo"
    assert response.headers["Cache-Control"] == "no-store"
    claims = verified(app, body["access_token"])
    assert claims["cnf"] == {"x5t#S256": thumbprint_of(pki.mine.pem)}
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == "899700218896" and claims["azp"] == LPS
    # Not the realm's keys: the PSC issuer's JWKS does not verify it.
    psc_kids = {
        k["kid"]
        for k in app.test_client()
        .get("/auth/realms/esante-wallet/protocol/openid-connect/certs")
        .get_json()["keys"]
    }
    assert jwt.get_unverified_header(body["access_token"])["kid"] not in psc_kids

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = app.test_client().get(ME, headers=bearer, **pki.mine.tls())
    assert me.status_code == 200, me.get_json()
    answer = me.get_json()
    assert answer["professionnel"]["SubjectNameID"] == "899700218896"
    assert answer["situation_exercice"]["identifiantTechniqueDeLaStructure"] == "R94021"
    assert answer["client_id"] == LPS


def test_actor_token_chooses_the_situation_d_exercice(app, pki):
    subject = psc_token(app, pki.mine, national_id=TWO_PLACES)
    actor = pki.mine.actor_token(situation_exercice=SECOND_PLACE)
    response = exchange(
        app, pki.mine, subject_token=subject, actor_token=actor, actor_token_type=JWT
    )
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["access_token"]
    claims = verified(app, token)
    assert claims["act"] == {
        "sub": LPS,
        "lps_nom": "Logiciel du cabinet",
        "lps_id": "LPS-0001",
        "lps_version": "4.2",
    }
    bearer = {"Authorization": f"Bearer {token}"}
    userinfo = app.test_client().get(USERINFO, headers=bearer, **pki.mine.tls()).get_json()
    assert userinfo["situation_exercice"]["identifiantTechniqueDeLaStructure"] == SECOND_PLACE
    me = app.test_client().get(ME, headers=bearer, **pki.mine.tls()).get_json()
    assert me["situation_exercice"]["identifiantTechniqueDeLaStructure"] == SECOND_PLACE
    assert me["logiciel"]["lps_nom"] == "Logiciel du cabinet"


def test_without_actor_token_the_first_situation(app, pki):
    subject = psc_token(app, pki.mine, national_id=TWO_PLACES)
    token = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    me = app.test_client().get(ME, headers=bearer, **pki.mine.tls()).get_json()
    assert me["situation_exercice"]["identifiantTechniqueDeLaStructure"] == FIRST_PLACE


def test_a_self_contained_subject_token(app, pki):
    subject = psc_token(app, pki.mine)
    response = exchange(app, pki.mine, subject_token=subject, subject_token_type=JWT)
    assert response.status_code == 200, response.get_json()


def test_lifetime_and_scopes_per_api(app, pki):
    subject = psc_token(app, pki.mine)
    response = exchange(app, pki.mine, "api-courte", subject_token=subject, scope="lecture")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["expires_in"] == 30 and body["scope"] == "lecture"
    claims = decode(body["access_token"])
    assert claims["aud"] == "api-courte" and claims["exp"] - claims["iat"] == 30
    everything = exchange(app, pki.mine, "api-courte", subject_token=subject).get_json()
    assert everything["scope"] == "lecture ecriture"


def test_the_exchange_is_audited(app, pki):
    subject = psc_token(app, pki.mine)
    token = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.client_id == LPS).order_by(AuditEvent.id.desc())
        ).all()
    row = next(r for r in rows if r.detail.get("grant_type") == EXCHANGE)
    assert row.event == "token_issued" and row.outcome == "success"
    assert row.national_id == decode(token)["sub"] and row.detail["audience"] == DEMO


def test_userinfo_is_cached_for_the_subject_token(app, pki):
    subject = psc_token(app, pki.mine, national_id=TWO_PLACES)
    first = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
    with app.app_context():
        person = db.session.scalar(
            select(Practitioner).where(Practitioner.national_id == TWO_PLACES)
        )
        before = person.exercices[0].nom_exercice
        person.exercices[0].nom_exercice = "RENOMME"
        db.session.commit()
    try:
        second = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
        fresh = psc_token(app, pki.mine, national_id=TWO_PLACES)
        third = exchange(app, pki.mine, subject_token=fresh).get_json()["access_token"]
        http = app.test_client()

        def names(token: str) -> str:
            bearer = {"Authorization": f"Bearer {token}"}
            me = http.get(USERINFO, headers=bearer, **pki.mine.tls()).get_json()
            return me["situation_exercice"]["nomDexercice"]

        assert names(first) == names(second) == before  # the subject token's cached reading
        assert names(third) == "RENOMME"  # another subject token reads the directory again
    finally:
        with app.app_context():
            person = db.session.scalar(
                select(Practitioner).where(Practitioner.national_id == TWO_PLACES)
            )
            person.exercices[0].nom_exercice = before
            db.session.commit()


# --- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["other", "elsewhere", None])
def test_wrong_or_missing_certificate(app, pki, which):
    subject = psc_token(app, pki.mine)
    software = getattr(pki, which) if which else None
    status, error, _ = error_of(exchange(app, software, subject_token=subject))
    assert (status, error) == (401, "invalid_client")


def test_the_api_refuses_another_certificate_or_none(app, pki):
    subject = psc_token(app, pki.mine)
    token = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    http = app.test_client()
    for tls in (pki.other.tls(), {}):
        for path in (ME, USERINFO):
            refused = http.get(path, headers=bearer, **tls)
            assert refused.status_code == 401
            assert refused.get_json()["error"] == "invalid_token"
            assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_the_api_refuses_a_psc_token_or_a_token_of_another_api(app, pki):
    subject = psc_token(app, pki.mine)
    other_api = exchange(app, pki.mine, "api-courte", subject_token=subject).get_json()
    http = app.test_client()
    for token in (subject, other_api["access_token"]):
        refused = http.get(ME, headers={"Authorization": f"Bearer {token}"}, **pki.mine.tls())
        assert refused.status_code == 401, refused.get_json()


def test_token_of_another_client(app, pki, clients):
    foreign = login_and_get_tokens(app, Browser(app), clients.web)["access_token"]
    for kind in ("urn:ietf:params:oauth:token-type:access_token", JWT):
        status, error, description = error_of(
            exchange(app, pki.mine, subject_token=foreign, subject_token_type=kind)
        )
        assert (status, error) == (400, "invalid_request")
        assert description == "Subject token was issued to another client"


def test_expired_subject_token(app, pki):
    subject = psc_token(app, pki.mine)
    with app.app_context():
        claims = {**decode(subject), "exp": int(time.time()) - 10}
        expired = sign(claims, jwt.get_unverified_header(subject)["alg"])
    for kind in ("urn:ietf:params:oauth:token-type:access_token", JWT):
        status, error, _ = error_of(
            exchange(app, pki.mine, subject_token=expired, subject_token_type=kind)
        )
        assert (status, error) == (400, "invalid_request")


def test_revoked_subject_token(app, pki):
    subject = psc_token(app, pki.mine)
    revoked = app.test_client().post(
        REVOKE, data={"token": subject, "client_id": LPS}, **pki.mine.tls()
    )
    assert revoked.status_code == 200
    status, error, description = error_of(exchange(app, pki.mine, subject_token=subject))
    assert (status, error) == (400, "invalid_request")
    assert "not active" in description


@pytest.mark.parametrize("kind", ["urn:ietf:params:oauth:token-type:access_token", JWT])
def test_inactive_professional(app, pki, kind):
    subject = psc_token(app, pki.mine, national_id=TWO_PLACES)
    with app.app_context():
        person = db.session.scalar(
            select(Practitioner).where(Practitioner.national_id == TWO_PLACES)
        )
        person.active = False
        db.session.commit()
    try:
        response = exchange(app, pki.mine, subject_token=subject, subject_token_type=kind)
        assert error_of(response) == (400, "invalid_grant", "User disabled")
    finally:
        with app.app_context():
            person = db.session.scalar(
                select(Practitioner).where(Practitioner.national_id == TWO_PLACES)
            )
            person.active = True
            db.session.commit()


def test_foreign_situation_d_exercice(app, pki):
    subject = psc_token(app, pki.mine, national_id=TWO_PLACES)
    actor = pki.mine.actor_token(situation_exercice="R94021")  # another professional's
    response = exchange(
        app, pki.mine, subject_token=subject, actor_token=actor, actor_token_type=JWT
    )
    status, error, description = error_of(response)
    assert (status, error) == (400, "invalid_request")
    assert "situation_exercice" in description


def test_replayed_actor_token(app, pki):
    subject = psc_token(app, pki.mine)
    actor = pki.mine.actor_token()
    form = {"subject_token": subject, "actor_token": actor, "actor_token_type": JWT}
    assert exchange(app, pki.mine, **form).status_code == 200
    assert error_of(exchange(app, pki.mine, **form)) == (
        400,
        "invalid_request",
        "Actor token already used",
    )


@pytest.mark.parametrize(
    "claims, words",
    [
        ({"aud": "https://ailleurs.example"}, "Invalid actor token"),
        ({"iss": "un-autre-logiciel"}, "Invalid actor token"),
        ({"exp": int(time.time()) + 3600}, "longer than"),
        ({"jti": None}, "Invalid actor token"),
    ],
)
def test_actor_token_checks(app, pki, claims, words):
    subject = psc_token(app, pki.mine)
    actor = pki.mine.actor_token(**claims)
    form = {"subject_token": subject, "actor_token": actor, "actor_token_type": JWT}
    status, error, description = error_of(exchange(app, pki.mine, **form))
    assert (status, error) == (400, "invalid_request") and words in description


def test_actor_token_signed_by_another_key(app, pki):
    subject = psc_token(app, pki.mine)
    actor = pki.other.actor_token()  # the other certificate's key
    form = {"subject_token": subject, "actor_token": actor, "actor_token_type": JWT}
    status, error, _ = error_of(exchange(app, pki.mine, **form))
    assert (status, error) == (400, "invalid_request")


@pytest.mark.parametrize(
    "form, expected",
    [
        ({"subject_token": None}, "Missing form parameter: subject_token"),
        ({"subject_token_type": "urn:x"}, "subject_token_type must be"),
        ({"subject_issuer": "un-autre-idp"}, "Unknown subject_issuer"),
        ({"requested_token_type": "urn:ietf:params:oauth:token-type:id_token"}, "requested_"),
        ({"actor_token_type": JWT}, "actor_token_type without actor_token"),
    ],
)
def test_invalid_requests(app, pki, form, expected):
    subject = psc_token(app, pki.mine)
    response = exchange(app, pki.mine, **{"subject_token": subject, **form})
    status, error, description = error_of(response)
    assert (status, error) == (400, "invalid_request") and expected in description


def test_invalid_target_and_scope(app, pki):
    subject = psc_token(app, pki.mine)
    wrong = exchange(app, pki.mine, subject_token=subject, audience="api-courte")
    assert error_of(wrong)[:2] == (400, "invalid_target")
    resource = exchange(app, pki.mine, subject_token=subject, resource="https://ailleurs.example")
    assert error_of(resource)[:2] == (400, "invalid_target")
    named = exchange(app, pki.mine, subject_token=subject, audience=DEMO)
    assert named.status_code == 200
    scope = exchange(app, pki.mine, subject_token=subject, scope="demo ecriture")
    assert error_of(scope)[:2] == (400, "invalid_scope")


def test_unauthorized_clients(app, pki):
    subject = psc_token(app, pki.mine)
    # The API allows another structure only.
    restricted = exchange(app, pki.mine, "api-restreinte", subject_token=subject)
    status, error, description = error_of(restricted)
    assert (status, error) == (400, "unauthorized_client") and "1B0064166" in description
    # A registered tls_client_auth client without the grant type.
    theirs = psc_token(app, pki.elsewhere, client_id=NO_EXCHANGE)
    response = exchange(app, pki.elsewhere, subject_token=theirs, client_id=NO_EXCHANGE)
    assert error_of(response)[:2] == (400, "unauthorized_client")


def test_unknown_api_and_the_psc_issuer(app, pki):
    subject = psc_token(app, pki.mine)
    unknown = exchange(app, pki.mine, "pas-une-api", subject_token=subject)
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "invalid_request"
    at_psc = app.test_client().post(
        "/auth/realms/esante-wallet/protocol/openid-connect/token",
        data={"grant_type": EXCHANGE, "client_id": LPS, "subject_token": subject},
        **pki.mine.tls(),
    )
    assert at_psc.get_json()["error"] == "unsupported_grant_type"


def test_discovery_of_the_api_issuer(app, pki):
    response = app.test_client().get(f"/api-as/realms/{DEMO}/.well-known/openid-configuration")
    metadata = json.loads(response.get_data())
    assert metadata["issuer"] == DEMO_ISSUER
    assert metadata["grant_types_supported"] == [EXCHANGE]
    assert metadata["token_endpoint_auth_methods_supported"] == ["tls_client_auth"]
    assert metadata["token_endpoint"].endswith(
        f"/api-as/realms/{DEMO}/protocol/openid-connect/token"
    )
    assert metadata["scopes_supported"] == ["demo"]
    jwks = app.test_client().get(metadata["jwks_uri"].removeprefix("http://localhost:8080"))
    assert {k["alg"] for k in jwks.get_json()["keys"]} >= {"RS256"}


def test_the_api_refuses_an_expired_token(app, pki):
    from psc_idp.api_as.keys import TOKEN_ALG, api_signing_keys

    subject = psc_token(app, pki.mine)
    token = exchange(app, pki.mine, subject_token=subject).get_json()["access_token"]
    with app.app_context():
        key = api_signing_keys(DEMO).active(TOKEN_ALG)
        claims = {**decode(token), "exp": int(time.time()) - 5}
        expired = jwt.encode(claims, key.private_key, TOKEN_ALG, headers={"kid": key.kid})
    refused = app.test_client().get(
        ME, headers={"Authorization": f"Bearer {expired}"}, **pki.mine.tls()
    )
    assert refused.status_code == 401
    assert refused.get_json()["error_description"] == "Token expired"
