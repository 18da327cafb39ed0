"""The actor token: a JWT the calling software signs with the key of its ORG AUTH_CLI
certificate (the one of the mutual TLS), describing itself and the situation d'exercice.

::

    {"iss": "<client_id>", "aud": "<the API's issuer>", "iat": …, "exp": …, "jti": "…",
     "lps_nom": "Mon DPI", "lps_id": "…", "lps_version": "4.2",
     "situation_exercice": "<identifiantTechniqueDeLaStructure of one of the activities>"}

Accepted once (``jti``), for ten minutes at most."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from psc_idp.api_as.errors import refused_token
from psc_idp.api_as.issuer import JWT_TYPE
from psc_idp.jose_header import unverified_header
from psc_idp.replay import accept_once

MAX_LIFETIME = 600
SOFTWARE_CLAIMS = ("lps_nom", "lps_id", "lps_version")
CLAIM_LENGTH = 200


@dataclass(frozen=True)
class Actor:
    software: dict[str, str]
    situation_exercice: str | None


def _algorithms(certificate: x509.Certificate) -> list[str]:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256", "PS256"]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ["ES256"]
    return []


def verified_actor(
    value: str, token_type: str | None, client_id: str, audience: str, certificate: x509.Certificate
) -> Actor:
    if token_type != JWT_TYPE:
        raise refused_token(f"actor_token_type must be {JWT_TYPE}")
    try:
        header = unverified_header(value)
        algorithms = _algorithms(certificate)
        if header.get("alg") not in algorithms:
            raise refused_token("Actor token is not signed with the client certificate's key")
        claims: dict[str, Any] = jwt.decode(
            value,
            certificate.public_key(),
            algorithms=algorithms,
            audience=audience,
            issuer=client_id,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            leeway=5,
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise refused_token(f"Invalid actor token: {error}") from error
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise refused_token("Invalid actor token: exp and iat are numbers")
    if exp - iat > MAX_LIFETIME:
        raise refused_token(f"Actor token lives longer than {MAX_LIFETIME} seconds")
    if not accept_once(f"actor-token:{client_id}:{claims['jti']}", exp):
        raise refused_token("Actor token already used")
    return Actor(software=_software(claims), situation_exercice=_situation(claims))


def _software(claims: dict[str, Any]) -> dict[str, str]:
    software = {}
    for name in SOFTWARE_CLAIMS:
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > CLAIM_LENGTH:
            raise refused_token(f"Actor token: {name} is a string of {CLAIM_LENGTH} at most")
        software[name] = value
    return software


def _situation(claims: dict[str, Any]) -> str | None:
    value = claims.get("situation_exercice")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 64:
        raise refused_token("Actor token: situation_exercice names a structure (its identifier)")
    return value
