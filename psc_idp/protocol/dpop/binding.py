"""Which DPoP key a request proves, and what that means for the tokens it asks for or presents.

The token endpoint checks the proof once, before any grant runs (``check_token_request``), and
keeps it for the request; the grants and the token generator then bind to its key. A resource
(UserInfo) checks the proof with the presented token's hash and compares keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Response, g, jsonify, request

from psc_idp.config import Settings, current_settings
from psc_idp.protocol.dpop.nonce import current_nonce, nonce_required
from psc_idp.protocol.dpop.proof import (
    INVALID_PROOF,
    SIGNING_ALGS,
    USE_NONCE,
    DPoPError,
    Proof,
    verify_proof,
)

HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"


class InvalidDPoPProof(OAuth2Error):
    """Raised within Authlib's endpoints: the proof is missing, invalid or of another key."""

    error = INVALID_PROOF
    status_code = 400

    @classmethod
    def of(cls, refusal: DPoPError) -> InvalidDPoPProof:
        error = cls(refusal.description)
        error.error = refusal.error
        return error

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if nonce_required() or self.error == USE_NONCE:
            headers.append((NONCE_HEADER, current_nonce()))
        return headers


def endpoint_urls(settings: Settings, path: str) -> tuple[str, ...]:
    """The endpoint's addresses a proof's ``htu`` may name: under the issuer and, when clients
    present certificates, under the mTLS origin (RFC 8705 §5 aliases)."""
    urls = [f"{settings.issuer}/protocol/openid-connect/{path}"]
    if settings.mtls_available:
        issuer_path = urlsplit(settings.issuer).path
        urls.append(f"{settings.mtls_base}{issuer_path}/protocol/openid-connect/{path}")
    return tuple(urls)


def presented_proof(path: str, access_token: str | None = None) -> Proof | None:
    """The request's proof checked for the endpoint at ``path``; None without a ``DPoP``
    header. Raises ``DPoPError``."""
    # Repeated headers arrive joined by commas (WSGI), which a compact JWT never contains.
    values = [part for value in request.headers.getlist(HEADER) for part in value.split(",")]
    if not values:
        return None
    if len(values) > 1:
        raise DPoPError("More than one DPoP proof")
    return verify_proof(
        values[0], request.method, endpoint_urls(current_settings(), path), access_token
    )


# --- token endpoint ----------------------------------------------------------------------------
def check_token_request() -> Response | None:
    """The token request's proof, kept for the grants; the refusal's answer if it fails."""
    try:
        g.dpop_proof = presented_proof("token")
    except DPoPError as error:
        response = jsonify(error=error.error, error_description=error.description)
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        add_nonce(response, error)
        return response
    return None


def token_request_proof() -> Proof | None:
    return g.get("dpop_proof")


def require_proof_of(client: Any) -> None:
    """A client registered with ``dpop_bound_access_tokens`` sends a proof with every token
    request: checked as soon as it is authenticated, before any grant spends a code or a
    refresh token."""
    if client.dpop_bound_access_tokens and token_request_proof() is None:
        raise InvalidDPoPProof("DPoP proof is missing")


def access_token_jkt() -> str | None:
    """The key the new access token is bound to: the proof's, if the request has one."""
    proof = token_request_proof()
    return proof.jkt if proof is not None else None


def require_key(jkt: str, what: str) -> None:
    """A code or refresh token bound to ``jkt`` is used only with a proof of that key."""
    proof = token_request_proof()
    if proof is None:
        raise InvalidDPoPProof("DPoP proof is missing")
    if proof.jkt != jkt:
        raise InvalidDPoPProof(f"DPoP proof key does not match the {what}")


def add_nonce(response: Response, error: DPoPError | None = None) -> Response:
    """A fresh nonce for the client's next proof, when nonces are required (RFC 9449 §8)."""
    if nonce_required() or (error is not None and error.error == USE_NONCE):
        response.headers[NONCE_HEADER] = current_nonce()
    return response


# --- pushed authorization requests -------------------------------------------------------------
def bind_pushed_request(params: dict[str, str]) -> None:
    """A proof at PAR binds the code to its key, as ``dpop_jkt`` does (RFC 9449 §10.1); sent
    with ``dpop_jkt`` too, both must name the same key."""
    try:
        proof = presented_proof("ext/par/request")
    except DPoPError as refusal:
        raise InvalidDPoPProof.of(refusal) from refusal
    if proof is None:
        return
    if params.get("dpop_jkt", proof.jkt) != proof.jkt:
        raise InvalidDPoPProof("DPoP proof key does not match dpop_jkt")
    params["dpop_jkt"] = proof.jkt


# --- resources ---------------------------------------------------------------------------------
def challenge(error: str, description: str) -> str:
    """``WWW-Authenticate`` for the DPoP scheme (RFC 9449 §7.1), with the accepted algorithms."""
    return (
        f'DPoP error="{error}", error_description="{description}", algs="{" ".join(SIGNING_ALGS)}"'
    )
