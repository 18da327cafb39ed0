"""The CI-SIS chain in process: an LPS registered with its ORG AUTH_CLI certificate, its PSC
access token (code flow, bound to that certificate), the APIs declared in the realm."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from psc_idp.api_as.apis import upsert_apis
from psc_idp.extensions import db
from psc_idp.pki import issue_org
from psc_idp.protocol.clients import upsert_client
from tests.helpers import REDIRECT, TOKEN, Browser, pkce_pair

LPS = "lps-cabinet"
NO_EXCHANGE = "lps-sans-echange"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
DEMO = "demo-api"
DEMO_ISSUER = f"http://localhost:8080/api-as/realms/{DEMO}"
DEMO_TOKEN = f"/api-as/realms/{DEMO}/protocol/openid-connect/token"
#: A professional with two situations d'exercice (demo realm).
TWO_PLACES = "899700427885"
FIRST_PLACE, SECOND_PLACE = "R102671", "F0B0193488"


@dataclass
class Software:
    """The LPS's certificate (PEM, for the proxy header) and its private key."""

    pem: str
    key: Any

    def tls(self) -> dict[str, Any]:
        return {"environ_base": {"SSL_CLIENT_CERT": self.pem}}

    def actor_token(self, audience: str = DEMO_ISSUER, **claims: Any) -> str:
        issued = int(time.time())
        body = {
            "iss": LPS,
            "aud": audience,
            "iat": issued,
            "exp": issued + 120,
            "jti": str(uuid.uuid4()),
            "lps_nom": "Logiciel du cabinet",
            "lps_id": "LPS-0001",
            "lps_version": "4.2",
            **claims,
        }
        return jwt.encode({k: v for k, v in body.items() if v is not None}, self.key, "PS256")


@dataclass
class Pki:
    mine: Software
    other: Software
    elsewhere: Software


@pytest.fixture(scope="module")
def pki(app) -> Pki:
    with app.app_context():
        mine = issue_org("1B0064166", "CABINET DU DOCTEUR", "LPS CABINET")
        other = issue_org("1B0000000", "AUTRE STRUCTURE", "AUTRE LOGICIEL")
        elsewhere = issue_org("1B0099999", "STRUCTURE SANS ECHANGE", "LPS SANS ECHANGE")
        for client_id, issued, grants, audiences in (
            (LPS, mine, ["authorization_code", EXCHANGE], [DEMO, "api-restreinte", "api-courte"]),
            (NO_EXCHANGE, elsewhere, ["authorization_code"], []),
        ):
            upsert_client(
                {
                    "client_id": client_id,
                    "token_endpoint_auth_method": "tls_client_auth",
                    "tls_client_auth_subject_dn": issued.subject_dn,
                    "tls_client_certificate_bound_access_tokens": True,
                    "redirect_uris": [REDIRECT],
                    "grant_types": grants,
                    "audiences": audiences,
                }
            )
        upsert_apis(
            [
                {"audience": DEMO, "name": "Démo", "scopes": ["demo"], "lifetime": 60},
                {
                    "audience": "api-restreinte",
                    "scopes": ["lecture"],
                    "allowed_structures": ["1B0000000"],
                },
                {
                    "audience": "api-courte",
                    "scopes": ["lecture", "ecriture"],
                    "lifetime": 30,
                    "allowed_clients": [LPS],
                },
            ]
        )
        db.session.commit()

        def software(issued) -> Software:
            return Software(issued.certificate_pem().decode(), issued.private_key)

        return Pki(software(mine), software(other), software(elsewhere))


def psc_token(app, software: Software, client_id: str = LPS, national_id: str = "899700218896"):
    """A PSC access token of ``client_id`` for ``national_id`` (code flow, bound)."""
    browser = Browser(app)
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client_id, national_id=national_id, code_challenge=challenge, code_challenge_method="S256"
    )
    response = app.test_client().post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": client_id,
        },
        **software.tls(),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def exchange(app, software: Software | None, api: str = DEMO, **form: str):
    data = {"grant_type": EXCHANGE, "client_id": LPS, "subject_token_type": ACCESS_TOKEN, **form}
    data = {k: v for k, v in data.items() if v is not None}
    return app.test_client().post(
        f"/api-as/realms/{api}/protocol/openid-connect/token",
        data=data,
        **(software.tls() if software else {}),
    )
