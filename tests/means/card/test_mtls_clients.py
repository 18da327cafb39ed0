"""Certificate-authenticated clients (RFC 8705): ``tls_client_auth`` with an ORG AUTH_CLI
certificate, and access tokens bound to it (``cnf.x5t#S256``)."""

from __future__ import annotations

import pytest

from psc_idp.extensions import db
from psc_idp.pki import issue_card, issue_org
from psc_idp.protocol.clients import upsert_client
from tests.helpers import (
    INTROSPECT,
    REDIRECT,
    TOKEN,
    USERINFO,
    Browser,
    basic,
    decode,
    pkce_pair,
)

CLIENT = "dpi-hopital"


@pytest.fixture(scope="module")
def certificates(app) -> dict[str, str]:
    with app.app_context():
        mine = issue_org("1B0064166", "HOPITAL GENERIQUE", "DPI HOPITAL")
        other = issue_org("1B0000000", "AUTRE STRUCTURE", "AUTRE LOGICIEL")
        card = issue_card("899700218896")
        upsert_client(
            {
                "client_id": CLIENT,
                "name": "DPI de l'hôpital",
                "token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_subject_dn": mine.subject_dn,
                "tls_client_certificate_bound_access_tokens": True,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            }
        )
        db.session.commit()
        return {
            "mine": mine.certificate_pem().decode(),
            "other": other.certificate_pem().decode(),
            "card": card.certificate_pem().decode(),
        }


def _tls(pem: str | None) -> dict:
    return {"environ_base": {"SSL_CLIENT_CERT": pem}} if pem else {}


def _client_credentials(app, pem: str | None):
    return app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": CLIENT}, **_tls(pem)
    )


def test_client_credentials_with_the_registered_certificate(app, certificates):
    response = _client_credentials(app, certificates["mine"])
    assert response.status_code == 200, response.get_json()
    claims = decode(response.get_json()["access_token"])
    assert claims["azp"] == CLIENT and claims["cnf"]["x5t#S256"]


@pytest.mark.parametrize("which", ["other", "card", None])
def test_other_certificates_are_refused(app, certificates, which):
    response = _client_credentials(app, certificates[which] if which else None)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_bound_token_is_active_only_with_its_certificate(app, certificates, clients):
    token = _client_credentials(app, certificates["mine"]).get_json()["access_token"]
    http = app.test_client()
    own = http.post(
        INTROSPECT, data={"token": token, "client_id": CLIENT}, **_tls(certificates["mine"])
    ).get_json()
    assert own["active"] is True and own["cnf"]["x5t#S256"]
    without = http.post(
        INTROSPECT, data={"token": token}, headers=basic(clients.web.client_id, clients.web.secret)
    ).get_json()
    assert without == {"active": False}


def test_userinfo_refuses_a_bound_token_without_the_same_certificate(app, certificates):
    browser = Browser(app)
    verifier, challenge = pkce_pair()
    callback = browser.login(CLIENT, code_challenge=challenge, code_challenge_method="S256")
    tokens = (
        app.test_client()
        .post(
            TOKEN,
            data={
                "grant_type": "authorization_code",
                "code": callback["code"],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
                "client_id": CLIENT,
            },
            **_tls(certificates["mine"]),
        )
        .get_json()
    )
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    http = app.test_client()
    assert http.get(USERINFO, headers=bearer, **_tls(certificates["mine"])).status_code == 200
    assert http.get(USERINFO, headers=bearer).status_code == 401
    refused = http.get(USERINFO, headers=bearer, **_tls(certificates["other"]))
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_token"


def test_cli_registers_a_tls_client(app, certificates):
    result = app.test_cli_runner().invoke(
        args=[
            "clients",
            "add",
            "cli-mtls",
            "--auth-method",
            "tls_client_auth",
            "--tls-subject-dn",
            "CN=DPI,OU=1B0064166,O=HOPITAL,C=FR",
            "--bound-tokens",
            "--grant-type",
            "client_credentials",
        ]
    )
    assert result.exit_code == 0, result.output
    missing = app.test_cli_runner().invoke(
        args=[
            "clients",
            "add",
            "cli-mtls2",
            "--auth-method",
            "tls_client_auth",
            "--grant-type",
            "client_credentials",
        ]
    )
    assert missing.exit_code != 0 and "tls_client_auth" in missing.output
