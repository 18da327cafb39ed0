"""``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2): the client signs an assertion with its key.

Keys come from the client's registered ``jwks`` or its ``jwks_uri``; only asymmetric algorithms
are accepted (so neither ``alg: none`` nor an HMAC keyed with a public key can pass), and each
``jti`` is accepted once until the assertion expires."""

from __future__ import annotations

import json
import urllib.request

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request as flask_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from psc_idp.config import current_settings
from psc_idp.jose_header import check_compact
from psc_idp.protocol.models import Client
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch

ASSERTION_ALGS = ["RS256", "PS256", "ES256"]
JWKS_MAX_BYTES = 256 * 1024
#: RFC 7523 §3 lets us refuse an ``exp`` unreasonably far ahead: its jti must be kept as long
#: (and a year-33658 ``exp`` overflowed into a 500). A day is far more than client libraries sign.
MAX_ASSERTION_LIFETIME = 24 * 3600


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self) -> list[str]:
        issuer = current_settings().issuer
        return [
            issuer,
            f"{issuer}/protocol/openid-connect/token",
            # RFC 9126 §2: the PAR endpoint's URL is a valid audience too.
            f"{issuer}/protocol/openid-connect/ext/par/request",
            flask_request.base_url,
        ]

    def process_assertion_claims(self, assertion: str, resolve_key):
        try:
            check_compact(assertion)  # bounded before joserfc decodes (and recurses into) it
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGS)
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description="Invalid client assertion signature") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: dict) -> None:
        exp = claims.get("exp")
        if isinstance(exp, int | float) and exp > epoch() + MAX_ASSERTION_LIFETIME + self.leeway:
            raise InvalidClientError(description="Client assertion expires too far in the future")
        super().verify_claims(claims)

    def validate_jti(self, claims: dict, jti: str) -> bool:
        # Spent once seen, even when the request then fails (psc_idp.replay).
        return accept_once(
            f"client-assertion\0{claims['sub']}\0{jti}", int(claims["exp"]) + self.leeway
        )

    def resolve_client_public_key(self, client: Client) -> KeySet:
        data = client.jwks or _fetch_jwks(client.jwks_uri)
        try:
            return KeySet.import_key_set(data)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise InvalidClientError(description="Client keys are not usable") from error


def _fetch_jwks(uri: str | None) -> dict:
    if not uri:
        raise InvalidClientError(description="Client has no registered keys")
    try:
        with urllib.request.urlopen(uri, timeout=5) as response:  # noqa: S310 (registered URL)
            return json.loads(response.read(JWKS_MAX_BYTES))
    except (OSError, ValueError) as error:
        raise InvalidClientError(description="Client jwks_uri could not be read") from error
