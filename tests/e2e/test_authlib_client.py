"""The main path with a Python relying party: Authlib's ``OAuth2Session`` against a real server.

The discovery document is checked with Authlib's OpenID Provider metadata rules, the ID token
with joserfc (signature against the JWKS) and Authlib's ``CodeIDToken`` rules (iss, aud, azp,
exp, nonce, at_hash); the ``iss`` authorization response parameter is compared as RFC 9207 §2.4
asks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

CLIENT_ID = "demo-web"
REDIRECT = "http://localhost:3000/callback"
SUB = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700218896"
NATIONAL_ID = "899700218896"
TIMEOUT = 15


class Browser:
    """The professional's browser: cookies kept, redirects followed one by one."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def redirect(self, url: str, data: dict[str, str] | None = None) -> str:
        if data is None:
            response = self.http.get(url, allow_redirects=False, timeout=TIMEOUT)
        else:
            response = self.http.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code in (302, 303), (url, response.status_code, response.text)
        return urljoin(url, response.headers["Location"])

    def login(self, authorization_url: str) -> str:
        """From the authorization URL to the callback URL, through the test identity picker."""
        login_page = self.redirect(authorization_url)
        assert urlsplit(login_page).path.startswith("/wallet/login/"), login_page
        picker = f"{login_page}/dev"
        page = self.http.get(picker, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, "no csrf_token in the identity picker"
        resume = self.redirect(
            picker,
            {"csrf_token": csrf.group(1), "national_id": NATIONAL_ID, "auth_mode": "CARD"},
        )
        return self.redirect(resume)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _id_token_claims(token: dict[str, Any], metadata: dict[str, Any], nonce: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
    decoded = jwt.decode(
        token["id_token"], keys, algorithms=metadata["id_token_signing_alg_values_supported"]
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "value": metadata["issuer"]}},
        {"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate()
    return dict(claims)


def test_authlib_code_flow_refresh_introspection_revocation(live_server: LiveServer) -> None:
    metadata = requests.get(live_server.discovery_url, timeout=TIMEOUT).json()
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == live_server.issuer

    rp = OAuth2Session(
        CLIENT_ID,
        live_server.demo_secret(CLIENT_ID),
        scope="openid scope_all",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier, nonce = generate_token(64), generate_token(24)
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, acr_values="eidas1"
    )
    callback = Browser().login(url)
    assert callback.startswith(f"{REDIRECT}?"), callback
    assert _query(callback)["iss"] == metadata["issuer"]  # RFC 9207 §2.4

    token = rp.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    claims = _id_token_claims(token, metadata, nonce)
    assert claims["sub"] == SUB
    assert (claims["authMode"], claims["acr"]) == ("CARD", "eidas3")
    assert claims["SubjectNameID"] == NATIONAL_ID

    userinfo = rp.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.headers["Content-Type"].startswith("application/json")
    assert userinfo.json()["sub"] == SUB
    assert userinfo.json()["SubjectRefPro"]["exercices"]

    refreshed = rp.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]

    introspection = rp.introspect_token(
        metadata["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert introspection.status_code == 200, introspection.text
    assert introspection.json()["active"] is True
    assert introspection.json()["client_id"] == CLIENT_ID

    revoked = rp.revoke_token(
        metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(OAuthError) as refused:
        rp.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused.value.error == "invalid_grant"
