"""A client's side of DPoP (RFC 9449) for the tests: its key, the proofs it signs with
joserfc (independent of the server's PyJWT), and what the server's refusals look like."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt as jose_jwt

from tests.helpers import TOKEN, USERINFO
from tests.jose_keys import full_length_key

BASE = "http://localhost:8080"
TOKEN_URL = BASE + TOKEN
USERINFO_URL = BASE + USERINFO


@dataclass
class Holder:
    """A client's DPoP key and the proofs it signs with it."""

    key: Any = field(default_factory=lambda: full_length_key())
    alg: str = "ES256"

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        htm: str = "POST",
        htu: str = TOKEN_URL,
        header: dict[str, Any] | None = None,
        signer: Any = None,
        **claims: Any,
    ) -> str:
        """A proof for ``htm htu``; ``claims`` and ``header`` override (None drops a member)."""
        body = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
        head = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.key.as_dict(private=False)}
        body = {k: v for k, v in {**body, **claims}.items() if v is not None}
        head = {k: v for k, v in {**head, **(header or {})}.items() if v is not None}
        return jose_jwt.encode(head, body, signer or self.key, algorithms=[head["alg"]])

    def for_token(self, token: str, htm: str = "GET", **claims: Any) -> str:
        """A proof for UserInfo carrying ``ath``, the hash of ``token``."""
        return self.proof(htm, USERINFO_URL, ath=ath(token), **claims)


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def refused(response, description: str, error: str = "invalid_dpop_proof") -> None:
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == error
    assert description in body["error_description"]


def userinfo(app, token: str, proof: str | None = None, scheme: str = "DPoP"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return app.test_client().get(USERINFO, headers=headers)


def challenged(response, error: str) -> None:
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == error
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'DPoP error="{error}"') and 'algs="ES256' in challenge
