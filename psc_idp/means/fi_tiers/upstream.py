"""Talking to an establishment's provider: its discovery document and keys (fetched with a
timeout, kept a few minutes), the authorization URL and the code exchange through Authlib's
client (PKCE S256, state, nonce), and the checks of the ID token it returns."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from psc_idp.means.fi_tiers.providers import Provider

TIMEOUT = 5
#: Discovery documents and JWKS are kept this long (a key rotation is seen within it).
CACHE_SECONDS = 300
#: Signature algorithms accepted on an upstream ID token (``none`` and HMAC never).
ALGORITHMS = ["RS256", "PS256", "ES256", "RS384", "PS384", "ES384", "RS512", "PS512", "EdDSA"]
LEEWAY = 60
#: A client assertion at the provider's token endpoint lives this long (RFC 7523 §3: short).
ASSERTION_LIFETIME = 60
#: psc-idp signs its assertions with the realm's RS256 key, published at the realm's JWKS
#: (``{issuer}/protocol/openid-connect/certs``), as Keycloak's broker does with its realm keys.
ASSERTION_ALG = "RS256"

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


class UpstreamError(Exception):
    """The provider cannot be reached or answered something unusable; ``message`` is French."""

    def __init__(self, message: str, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


def _get_json(url: str, fresh: bool = False) -> dict[str, Any]:
    with _cache_lock:
        cached = _cache.get(url)
    if cached and not fresh and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise UpstreamError(
            "Le fournisseur d'identité de votre établissement ne répond pas. Réessayez plus tard.",
            f"upstream unreachable: {url}: {type(error).__name__}",
        ) from error
    if not isinstance(document, dict):
        raise UpstreamError("Le fournisseur d'identité a répondu de façon inattendue.", url)
    with _cache_lock:
        _cache[url] = (time.monotonic() + CACHE_SECONDS, document)
    return document


def metadata(provider: Provider) -> dict[str, Any]:
    document = _get_json(provider.discovery_url)
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"):
        if not isinstance(document.get(key), str):
            raise UpstreamError(
                "La configuration du fournisseur d'identité est incomplète.",
                f"discovery without {key}",
            )
    return document


@dataclass(frozen=True)
class Sent:
    url: str
    state: str
    nonce: str
    code_verifier: str


def _session(provider: Provider, redirect_uri: str) -> OAuth2Session:
    assertion = provider.token_endpoint_auth_method == "private_key_jwt"
    client = OAuth2Session(
        client_id=provider.client_id,
        client_secret=_assertion_key() if assertion else (provider.client_secret or None),
        token_endpoint_auth_method=provider.token_endpoint_auth_method,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    if assertion:
        client.register_client_auth_method(_private_key_jwt())
    return client


def _assertion_key() -> bytes:
    key = current_app.extensions["psc_signing_keys"].active(ASSERTION_ALG)
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _private_key_jwt() -> PrivateKeyJWT:
    """Authlib's RFC 7523 client authentication: iss = sub = client_id, aud = the token
    endpoint, a fresh ``jti`` and ``iat``; ``exp`` a minute away (Authlib's default is an
    hour) and ``kid`` naming the key in our JWKS. One per token request: the claims are its."""
    key = current_app.extensions["psc_signing_keys"].active(ASSERTION_ALG)
    return PrivateKeyJWT(
        claims={"exp": int(time.time()) + ASSERTION_LIFETIME},
        headers={"kid": key.kid},
        alg=ASSERTION_ALG,
    )


def authorization_url(provider: Provider, redirect_uri: str) -> Sent:
    """Where to send the browser, with a fresh state, nonce and PKCE verifier."""
    endpoint = metadata(provider)["authorization_endpoint"]
    state, nonce, verifier = (
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(32),
        generate_token(64),
    )
    with _session(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=verifier
        )
    return Sent(url, state, nonce, verifier)


def exchange_code(
    provider: Provider, redirect_uri: str, code: str, code_verifier: str
) -> dict[str, Any]:
    endpoint = metadata(provider)["token_endpoint"]
    try:
        with _session(provider, redirect_uri) as client:
            token = client.fetch_token(
                endpoint, code=code, code_verifier=code_verifier, timeout=TIMEOUT
            )
    except Exception as error:  # Authlib raises OAuthError, requests its own: same page
        raise UpstreamError(
            "Le fournisseur d'identité de votre établissement a refusé la connexion.",
            f"token request failed: {type(error).__name__}: {str(error)[:200]}",
        ) from error
    if not isinstance(token.get("id_token"), str):
        raise UpstreamError(
            "Le fournisseur d'identité n'a pas renvoyé d'ID token.", "no id_token in response"
        )
    return dict(token)


# --- the ID token ------------------------------------------------------------------------------
REFUSED = "L'identité transmise par votre établissement n'a pas pu être vérifiée."


def _keys(provider: Provider, fresh: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_get_json(metadata(provider)["jwks_uri"], fresh=fresh))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise UpstreamError(REFUSED, f"unusable upstream JWKS: {error}") from error


def verified_claims(provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    """The claims of ``id_token`` once signature, issuer, audience, nonce, dates and tenant hold;
    ``UpstreamError`` otherwise. The provider's keys are read again once on an unknown ``kid``
    (a rotation)."""
    try:
        token = _decode(id_token, _keys(provider))
    except JoseError:
        try:
            token = _decode(id_token, _keys(provider, fresh=True))
        except JoseError as error:
            raise UpstreamError(REFUSED, f"id_token signature: {error}") from error
    claims = token.claims
    _check(claims.get("iss") in provider.allowed_issuers, f"iss not allowed: {claims.get('iss')}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    _check(provider.client_id in audiences, "aud does not name our client_id")
    if isinstance(audience, list) and len(audiences) > 1:
        _check(claims.get("azp") == provider.client_id, "several audiences and azp is not us")
    _check(secrets.compare_digest(str(claims.get("nonce", "")), nonce), "nonce mismatch")
    moment = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    _check(isinstance(exp, int | float) and exp + LEEWAY > moment, "id_token expired")
    _check(iat is None or (isinstance(iat, int | float) and iat - LEEWAY < moment), "iat ahead")
    if provider.allowed_tenants:
        tenant = claims.get(provider.tenant_claim)
        if tenant not in provider.allowed_tenants:
            raise UpstreamError(
                "Votre compte appartient à une organisation qui n'est pas autorisée ici.",
                f"tenant not allowed: {str(tenant)[:80]}",
            )
    local_id = claims.get(provider.user_id_claim)
    _check(isinstance(local_id, str) and 0 < len(local_id) <= 255, "no usable local user id")
    return claims


def _decode(id_token: str, keys: KeySet) -> Any:
    return jwt.decode(id_token, keys, algorithms=ALGORITHMS)


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise UpstreamError(REFUSED, reason)
