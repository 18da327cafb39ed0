"""Device keys (P-256 public JWKs) and the ES256 JWS a device signs its calls with."""

from __future__ import annotations

import json
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from psc_idp.jose_header import unverified_header

MAX_JWS_BYTES = 4096


class BadSignature(ValueError):
    pass


def public_key(jwk: Any) -> Any:
    """The public key of a device JWK: EC P-256, and never a private one."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise BadSignature("the device key must be an EC P-256 JWK")
    if "d" in jwk:
        raise BadSignature("a private key was sent: only the public key may leave the device")
    try:
        return ECAlgorithm.from_jwk(json.dumps({k: jwk[k] for k in ("kty", "crv", "x", "y")}))
    except (KeyError, ValueError, jwt.PyJWTError) as error:
        raise BadSignature("the device key is not a valid P-256 public key") from error


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    public_key(jwk)
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def header_of(token: Any) -> dict[str, Any]:
    # unverified_header bounds the segments' nesting before PyJWT decodes any of them.
    if not isinstance(token, str) or len(token) > MAX_JWS_BYTES or token.count(".") != 2:
        raise BadSignature("not a compact JWS")
    try:
        return unverified_header(token)
    except ValueError as error:
        raise BadSignature("unreadable JWS header") from error


def verify(token: str, jwk: dict[str, Any], typ: str) -> dict[str, Any]:
    """Claims of an ES256 JWS of type ``typ`` signed by ``jwk``."""
    header = header_of(token)
    if header.get("alg") != "ES256" or header.get("typ") != typ:
        raise BadSignature(f"expected an ES256 JWS of type {typ}")
    try:
        claims = jwt.decode(
            token,
            public_key(jwk),
            algorithms=["ES256"],
            options={"verify_aud": False, "require": ["iat", "jti"]},
            leeway=60,
        )
    except jwt.PyJWTError as error:
        raise BadSignature(f"invalid signature or claims: {error}") from error
    # PyJWT reads "123" as a time; callers add seconds to these (replay horizons, lifetimes).
    for name in ("iat", "exp", "nbf"):
        if name in claims and type(claims[name]) is not int:
            raise BadSignature(f"{name} must be an integer (seconds since 1970)")
    return claims
