"""The checks of a DPoP proof (RFC 9449 §4.3), in the RFC's order; each refusal says which.

A proof is a JWT signed with the key whose public half is in its own header; what it proves is
that the sender holds that key for this request (method, URL, time, once), and, at a resource,
for this access token (``ath``)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from psc_idp import replay
from psc_idp.config import current_settings
from psc_idp.jose_header import unverified_header
from psc_idp.protocol.dpop.nonce import nonce_is_fresh, nonce_required

TYP = "dpop+jwt"
#: Asymmetric algorithms only (RFC 9449 §4.3 item 5); advertised as
#: ``dpop_signing_alg_values_supported``.
SIGNING_ALGS = ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA")
#: Members of a private (or symmetric) JWK: a proof's ``jwk`` must carry none (§4.3 item 7).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: RFC 7638 §3.2: the members a thumbprint is computed over, by key type.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
MAX_JTI = 256

INVALID_PROOF = "invalid_dpop_proof"
USE_NONCE = "use_dpop_nonce"


class DPoPError(Exception):
    """A refused proof: ``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce``."""

    def __init__(self, description: str, error: str = INVALID_PROOF):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Proof:
    #: The JWK SHA-256 thumbprint of the proof's key (``cnf.jkt``, RFC 9449 §6).
    jkt: str
    claims: dict[str, Any]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256) of a public JWK."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None or not all(isinstance(jwk.get(name), str) for name in members):
        raise DPoPError("DPoP proof jwk is not a supported public key")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


def access_token_hash(token: str) -> str:
    """``ath``: base64url of the SHA-256 of the access token (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(token.encode()).digest())


def normalised_url(url: str) -> str:
    """Scheme and host lowercased, default port dropped, no query nor fragment (RFC 9449 §4.3
    item 9, RFC 3986 §6.2)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


def _same_url(htu: Any, urls: tuple[str, ...]) -> bool:
    if not isinstance(htu, str):
        return False
    try:
        return normalised_url(htu) in {normalised_url(url) for url in urls}
    except ValueError:  # a port that is not a number, an unclosed IPv6 bracket
        return False


def _header(value: str) -> dict[str, Any]:
    try:
        return unverified_header(value)
    except ValueError as error:
        raise DPoPError("DPoP proof is not a well-formed JWT") from error


def _public_key(header: dict[str, Any]) -> tuple[Any, str]:
    if header.get("typ") != TYP:
        raise DPoPError("DPoP proof has an invalid typ")
    alg = header.get("alg")
    if alg not in SIGNING_ALGS:
        raise DPoPError("DPoP proof has an unsupported alg")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise DPoPError("DPoP proof has no jwk")
    if _PRIVATE_MEMBERS & set(jwk):
        raise DPoPError("DPoP proof jwk is not a public key")
    jkt = thumbprint(jwk)
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
        raise DPoPError("DPoP proof jwk does not fit its alg") from error
    return key, jkt


def verify_proof(
    value: str,
    method: str,
    urls: tuple[str, ...],
    access_token: str | None = None,
) -> Proof:
    """The proof ``value`` checked for a request ``method`` to one of ``urls`` (the endpoint's
    advertised addresses) and, at a resource, for ``access_token``. Raises ``DPoPError``."""
    settings = current_settings()
    header = _header(value)
    key, jkt = _public_key(header)
    try:
        claims = jwt.decode(
            value,
            key,
            algorithms=[header["alg"]],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["jti", "htm", "htu", "iat"],
            },
        )
    except jwt.MissingRequiredClaimError as error:
        raise DPoPError(f"DPoP proof is missing {error.claim}") from error
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise DPoPError("DPoP proof signature is invalid") from error
    if claims["htm"] != method:
        raise DPoPError("DPoP proof htm does not match the request")
    if not _same_url(claims["htu"], urls):
        raise DPoPError("DPoP proof htu does not match the request")
    iat = claims["iat"]
    now = time.time()
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise DPoPError("DPoP proof iat is not a number")
    if iat > now + settings.dpop_clock_skew:
        raise DPoPError("DPoP proof is issued in the future")
    if iat < now - settings.dpop_proof_lifetime - settings.dpop_clock_skew:
        raise DPoPError("DPoP proof has expired")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
        raise DPoPError("DPoP proof jti is invalid")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DPoPError("DPoP proof ath does not match the access token")
    if nonce_required() and not nonce_is_fresh(claims.get("nonce")):
        raise DPoPError("DPoP proof requires a fresh nonce", USE_NONCE)
    # Last, once every other check passed: a proof is used once, on every instance (§11.1).
    until = iat + settings.dpop_proof_lifetime + 2 * settings.dpop_clock_skew
    if not replay.accept_once(f"dpop\0{jkt}\0{jti}", until):
        raise DPoPError("DPoP proof has already been used")
    return Proof(jkt, claims)
