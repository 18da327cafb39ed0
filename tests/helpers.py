"""Helpers that read like what a user or a relying party does."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm

ISSUER_PATH = "/auth/realms/esante-wallet"
OIDC = f"{ISSUER_PATH}/protocol/openid-connect"
TOKEN = f"{OIDC}/token"
USERINFO = f"{OIDC}/userinfo"
INTROSPECT = f"{OIDC}/token/introspect"
REVOKE = f"{OIDC}/revoke"
LOGOUT = f"{OIDC}/logout"
CERTS = f"{OIDC}/certs"
AUTHORIZE = "/wallet/auth"
DOCTOR = "899700218896"
REDIRECT = "http://localhost:3000/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query or parts.fragment).items()}


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None = None
    private_key: Any = None
    kid: str | None = None
    method: str = "client_secret_basic"

    def auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, form fields) that authenticate this client at the token endpoint."""
        if self.private_key is not None:
            return {}, {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.assertion(),
            }
        if self.secret is None:
            return {}, {"client_id": self.client_id}
        if self.method == "client_secret_post":
            return {}, {"client_id": self.client_id, "client_secret": self.secret}
        return basic(self.client_id, self.secret), {}

    def assertion(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": f"http://localhost:8080{TOKEN}",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
            **overrides,
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


@dataclass
class TestClients:
    __test__ = False  # a fixture's value, not a test class

    web: RegisteredClient
    post: RegisteredClient
    public: RegisteredClient
    jwt: RegisteredClient
    plain: RegisteredClient
    signed: RegisteredClient

    @classmethod
    def ensure(cls, app: Flask) -> TestClients:
        """Register the test clients on ``app``'s database. Secrets and keys are made once per
        test run, so every app built on the same database agrees on them."""
        cached = app.extensions.get("test_clients")
        if cached is not None:
            return cached
        from psc_idp.extensions import db
        from psc_idp.protocol.clients import upsert_client

        specs, key = _client_specs()
        with app.app_context():
            for spec in specs.values():
                upsert_client(dict(spec))
            db.session.commit()
        made = cls(
            **{
                name: RegisteredClient(
                    spec["client_id"],
                    spec.get("secret"),
                    key if name == "jwt" else None,
                    "test-jwt-key" if name == "jwt" else None,
                    spec.get("token_endpoint_auth_method", "client_secret_basic"),
                )
                for name, spec in specs.items()
            }
        )
        app.extensions["test_clients"] = made
        return made


@functools.cache
def _client_specs() -> tuple[dict[str, dict[str, Any]], Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="test-jwt-key", alg="RS256", use="sig")
    common = {
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["http://localhost:3000/"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    }
    public = {**common, "token_endpoint_auth_method": "none"}
    public["grant_types"] = ["authorization_code", "refresh_token"]
    specs = {
        "web": {"client_id": "test-web", "secret": secrets.token_urlsafe(32), **common},
        "post": {
            "client_id": "test-post",
            "secret": secrets.token_urlsafe(32),
            "token_endpoint_auth_method": "client_secret_post",
            **common,
        },
        "public": {"client_id": "test-public", **public},
        "jwt": {
            "client_id": "test-jwt",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [jwk]},
            **common,
        },
        "plain": {
            "client_id": "test-plain",
            **public,
            "allow_plain_pkce": True,
            "grant_types": ["authorization_code"],
        },
        "signed": {
            "client_id": "test-signed",
            "secret": secrets.token_urlsafe(32),
            "id_token_signed_response_alg": "ES256",
            "access_token_signed_response_alg": "PS256",
            "userinfo_signed_response_alg": "RS256",
            **common,
        },
    }
    return specs, key


@dataclass
class Browser:
    """A professional's browser on the wallet, driven through Flask's test client."""

    app: Flask
    http: Any = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.app.test_client()

    def authorize(self, client_id: str, **params: str) -> Any:
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid scope_all",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            **params,
        }
        query = {k: v for k, v in query.items() if v is not None}
        return self.http.get(AUTHORIZE, query_string=query)

    def pick_identity(
        self, login_page: str, national_id: str = DOCTOR, auth_mode: str = "MOBILE"
    ) -> Any:
        """On la mire, choose the test identity picker and log in as ``national_id``."""
        picker_url = f"{login_page}/dev"
        html = self.http.get(picker_url).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return self.http.post(
            picker_url,
            data={"csrf_token": csrf, "national_id": national_id, "auth_mode": auth_mode},
        )

    def login(
        self,
        client_id: str,
        national_id: str = DOCTOR,
        auth_mode: str = "MOBILE",
        **params: str,
    ) -> dict[str, str]:
        """Authorize, log in with the picker, follow the redirects; return the callback query."""
        response = self.authorize(client_id, **params)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        if location.startswith("/wallet/login/"):
            done = self.pick_identity(location, national_id, auth_mode)
            assert done.status_code == 302, done.get_data(as_text=True)
            response = self.http.get(done.headers["Location"])
            location = response.headers["Location"]
        return query_of(location)


def exchange_code(
    app: Flask, client: RegisteredClient, code: str, verifier: str | None = None, **extra: str
) -> Any:
    headers, form = client.auth()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **form}
    if verifier:
        data["code_verifier"] = verifier
    data.update(extra)
    return app.test_client().post(TOKEN, data=data, headers=headers)


def register_client(app: Flask, client_id: str, **fields: Any) -> RegisteredClient:
    """A confidential web client of the test's own (a fresh secret), with ``fields`` beside its
    callback and post-logout URIs on localhost:3000."""
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "redirect_uris": ["http://localhost:3000/callback"],
                "post_logout_redirect_uris": ["http://localhost:3000/"],
                **fields,
            }
        )
        db.session.commit()
    return RegisteredClient(client_id, secret)


def token_call(app: Flask, client: RegisteredClient, **data: str) -> Any:
    headers, form = client.auth()
    return app.test_client().post(TOKEN, data={**form, **data}, headers=headers)


def login_and_get_tokens(
    app: Flask, browser: Browser, client: RegisteredClient, **params: str
) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256", **params
    )
    response = exchange_code(app, client, callback["code"], verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def decode(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
