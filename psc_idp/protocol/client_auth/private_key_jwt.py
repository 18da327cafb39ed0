"""``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2): the client signs an assertion with its key.

Keys come from the client's registered ``jwks`` or its ``jwks_uri``; only asymmetric algorithms
are accepted, each bound to its key type (so neither ``alg: none`` nor an HMAC keyed with a
public key can pass), and each ``jti`` is accepted once until the assertion expires. Verified with
PyJWT, the project's one JOSE library (docs/architecture.md, "JOSE")."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple

import jwt
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError
from flask import request as flask_request

from psc_idp.config import current_settings
from psc_idp.jose_header import b64url_decode, check_compact, unverified_header
from psc_idp.protocol.models import Client
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Each accepted algorithm and the key type (and curve) it needs.
ASSERTION_ALGS: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
}
JWKS_MAX_BYTES = 256 * 1024
#: RFC 7523 §3 lets us refuse an ``exp`` unreasonably far ahead: its jti must be kept as long
#: (and a year-33658 ``exp`` overflowed into a 500). A day is far more than client libraries sign.
MAX_ASSERTION_LIFETIME = 24 * 3600
#: Descriptions of PyJWT's refusals (its messages may quote values, which Authlib refuses).
CLAIM_ERRORS: dict[type[Exception], str] = {
    jwt.ExpiredSignatureError: "The client assertion has expired",
    jwt.ImmatureSignatureError: "The client assertion is not yet valid",
    jwt.InvalidAudienceError: "Invalid claim: 'aud'",
    jwt.InvalidIssuerError: "Invalid claim: 'iss'",
    jwt.InvalidIssuedAtError: "Invalid claim: 'iat'",
}
#: Clock skew allowed on ``exp``, ``nbf`` and ``iat``.
LEEWAY = 30


class ClientKey(NamedTuple):
    jwk: dict[str, Any]  # as registered
    key: jwt.PyJWK


def _refuse(description: str) -> InvalidClientError:
    return InvalidClientError(description=description)


class PrivateKeyJWT:
    CLIENT_AUTH_METHOD = "private_key_jwt"
    CLIENT_ASSERTION_TYPE = ASSERTION_TYPE

    def __init__(self, leeway: int = LEEWAY) -> None:
        self.leeway = leeway

    def __call__(
        self, query_client: Callable[[str], Client | None], request: OAuth2Request
    ) -> Client | None:
        form = request.form
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            return None  # another method's request
        header, claims = _read_unverified(assertion)
        # ``sub`` is read before anything is verified: it names the client whose keys verify.
        client_id = claims.get("sub")
        if not isinstance(client_id, str):
            raise _refuse("Invalid claim: 'sub'")
        client = query_client(client_id)
        if client is None:
            raise _refuse("The client does not exist on this server.")
        if not client.check_endpoint_auth_method(self.CLIENT_AUTH_METHOD, "token"):
            raise _refuse(f"The client cannot authenticate with method: {self.CLIENT_AUTH_METHOD}")
        _check_dates(claims)
        key = select_key(self.resolve_client_public_key(client), header)
        verified = self.verify(assertion, key, header["alg"], client_id)
        request.client = client
        self.check_jti(verified)
        return client

    def get_audiences(self) -> list[str]:
        issuer = current_settings().issuer
        return [
            issuer,
            f"{issuer}/protocol/openid-connect/token",
            # RFC 9126 §2: the PAR endpoint's URL is a valid audience too.
            f"{issuer}/protocol/openid-connect/ext/par/request",
            flask_request.base_url,
        ]

    def verify(self, assertion: str, key: jwt.PyJWK, alg: str, client_id: str) -> dict:
        """Signature, then the registered claims: iss = sub = client_id, aud one of ours,
        exp required (and not too far ahead), nbf and iat when present."""
        try:
            claims = jwt.decode(
                assertion,
                key.key,
                algorithms=[alg],
                audience=self.get_audiences(),
                issuer=client_id,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError as error:
            raise _refuse("Invalid client assertion signature") from error
        except jwt.MissingRequiredClaimError as error:
            raise _refuse(f"Missing claim: '{error.claim}'") from error
        except jwt.PyJWTError as error:
            raise _refuse(CLAIM_ERRORS.get(type(error), "Invalid client assertion")) from error
        if claims["exp"] > epoch() + MAX_ASSERTION_LIFETIME + self.leeway:
            raise _refuse("Client assertion expires too far in the future")
        if claims.get("sub") != claims.get("iss"):
            raise _refuse("Issuer and Subject MUST match.")
        return claims

    def check_jti(self, claims: dict) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _refuse("Missing JWT ID.")
        # Spent once seen, even when the request then fails (psc_idp.replay).
        if not accept_once(
            f"client-assertion\0{claims['sub']}\0{jti}", int(claims["exp"]) + self.leeway
        ):
            raise _refuse("JWT ID is used before.")

    def resolve_client_public_key(self, client: Client) -> list[ClientKey]:
        data = client.jwks or _fetch_jwks(client.jwks_uri)
        try:
            entries = data["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
            return [ClientKey(entry, jwt.PyJWK(entry)) for entry in entries]
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise _refuse("Client keys are not usable") from error


def _read_unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = unverified_header(assertion)  # bounded before anything decodes it
        claims = claims_of(assertion)
    except ValueError as error:
        raise _refuse("Invalid JWT assertion.") from error
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ASSERTION_ALGS:
        raise _refuse("Invalid client assertion signature")
    return header, claims


def claims_of(assertion: str) -> dict[str, Any]:
    """The payload as an object, unverified (after ``check_compact``). Raises ``ValueError``."""
    check_compact(assertion)
    claims = json.loads(b64url_decode(assertion.split(".")[1]))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


def _check_dates(claims: dict[str, Any]) -> None:
    # PyJWT's checks of these types vary across its versions; ours do not.
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _refuse(f"Invalid claim: '{name}'")


def select_key(keys: list[ClientKey], header: dict[str, Any]) -> jwt.PyJWK:
    """The key named by ``kid`` (the only key when there is no ``kid``), which must suit the
    header's algorithm: its type, its curve, its own ``alg`` and ``use`` if it declares them."""
    kid = header.get("kid")
    if kid is None and len(keys) == 1:
        candidates = keys
    else:
        candidates = [key for key in keys if key.jwk.get("kid") == kid]
    alg = header["alg"]
    kty, crv = ASSERTION_ALGS[alg]
    for key in candidates:
        data = key.jwk
        if data.get("kty") != kty or (crv is not None and data.get("crv") != crv):
            continue
        if data.get("alg", alg) != alg or data.get("use", "sig") != "sig":
            continue
        return key.key
    raise _refuse(f"No usable key for kid: '{kid}'")


def _fetch_jwks(uri: str | None) -> dict:
    if not uri:
        raise _refuse("Client has no registered keys")
    try:
        with urllib.request.urlopen(uri, timeout=5) as response:  # noqa: S310 (registered URL)
            return json.loads(response.read(JWKS_MAX_BYTES))
    except (OSError, ValueError) as error:
        raise _refuse("Client jwks_uri could not be read") from error
