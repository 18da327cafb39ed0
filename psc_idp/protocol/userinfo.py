"""UserInfo (OIDC Core §5.3): the sectoral claims, computed from the directory at each call.

The bearer token comes in the ``Authorization`` header (GET or POST) or, for POST, in a form
body (RFC 6750 §2.2) — never both. A DPoP-bound token comes as ``Authorization: DPoP <token>``
with a ``DPoP`` proof of its key (RFC 9449 §7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Request, Response, json, jsonify

from psc_idp.config import current_settings
from psc_idp.directory.reading import read_practitioner
from psc_idp.directory.userinfo import build_userinfo
from psc_idp.protocol import changes as issuance
from psc_idp.protocol import scopes
from psc_idp.protocol.claims import service_account_subject, subject_for
from psc_idp.protocol.claims_request import requested_claims
from psc_idp.protocol.dpop import binding as dpop
from psc_idp.protocol.dpop.proof import DPoPError
from psc_idp.protocol.encryption.algorithms import USERINFO, Choice, registered
from psc_idp.protocol.encryption.client_key import EncryptionKeyUnavailable
from psc_idp.protocol.encryption.outgoing import encrypt_to_client
from psc_idp.protocol.lookups import TokenFamily
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import (
    BindingCheck,
    binding_matches,
    envelope,
    find_active_access_token,
    sign,
)

BEARER, DPOP = "Bearer", "DPoP"


def unbound_key(cnf_jkt: str | None) -> bool:
    """Without a DPoP proof: only a token bound to no key may be used."""
    return cnf_jkt is None


def bearer_error(status: int, error: str, description: str, scheme: str = BEARER) -> Response:
    realm = current_settings().realm
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = (
        dpop.challenge(error, description)
        if scheme == DPOP
        else f'Bearer realm="{realm}", error="{error}", error_description="{description}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _dpop_refusal(error: DPoPError) -> Response:
    return dpop.add_nonce(bearer_error(401, error.error, error.description, DPOP), error)


def presented_token(request: Request) -> tuple[str | None, Response | None]:
    header = request.headers.get("Authorization", "")
    in_form = request.form.getlist("access_token") if request.method == "POST" else []
    if header and in_form or len(in_form) > 1:
        return None, bearer_error(400, "invalid_request", "More than one token presented")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in (BEARER.lower(), DPOP.lower()) or not value.strip():
            return None, bearer_error(401, "invalid_token", "Token not provided")
        return value.strip(), None
    if in_form:
        return in_form[0], None
    return None, bearer_error(401, "invalid_token", "Token not provided")


def _uses_dpop_scheme(request: Request) -> bool:
    return request.headers.get("Authorization", "").partition(" ")[0].lower() == DPOP.lower()


def userinfo_response(request: Request) -> Response:
    value, failure = presented_token(request)
    if failure is not None:
        return failure
    proof_key = None
    if _uses_dpop_scheme(request):
        try:
            proof = dpop.presented_proof("userinfo", access_token=value)
        except DPoPError as error:
            return _dpop_refusal(error)
        if proof is None:
            return _dpop_refusal(DPoPError("DPoP proof is missing"))
        proof_key = proof.jkt
    # A DPoP-bound token only with a proof of its key; an unbound one only as a bearer token.
    info = userinfo_for(value, binding_matches, lambda jkt: jkt == proof_key)
    if proof_key is not None and info.claims is None:
        info = replace(info, scheme=DPOP)  # refused in the scheme it was presented with
    return dpop.add_nonce(answer(info))


@dataclass(frozen=True)
class UserInfo:
    """What UserInfo answers for a token, whoever carried the request (the view, or the
    workers' shortcut ``protocol/direct.py``): the claims, or the refusal."""

    status: int
    claims: dict[str, Any] | None = None
    #: The client's ``userinfo_signed_response_alg``: the claims are then sent as a JWT.
    signed_with: str | None = None
    #: The client's ``userinfo_encrypted_response_alg``/``_enc``: the answer is then a JWE.
    encrypted_with: Choice | None = None
    client: Client | None = None
    error: str = ""
    description: str = ""
    #: The authentication scheme of the refusal's challenge.
    scheme: str = BEARER


def userinfo_for(
    value: str, binding_ok: BindingCheck = binding_matches, key_ok: BindingCheck = unbound_key
) -> UserInfo:
    """The answer for the access token ``value``; ``binding_ok`` says whether the request may
    use a token bound to a certificate (RFC 8705 §3), from that token's thumbprint, ``key_ok``
    whether it may use a token bound to a DPoP key (RFC 9449 §7), from that key's thumbprint."""
    found = find_active_access_token(value)
    if found is None:
        return UserInfo(401, error="invalid_token", description="Token verification failed")
    _, token = found
    if not binding_ok(token.cnf_x5t):
        return UserInfo(
            401, error="invalid_token", description="Certificate binding does not match"
        )
    if not key_ok(token.cnf_jkt):
        return UserInfo(
            401, error="invalid_token", description="DPoP binding does not match", scheme=DPOP
        )
    family, client = token.family, token.client
    if "openid" not in family.scope.split():
        return UserInfo(403, error="insufficient_scope", description="Missing openid scope")
    claims = _claims(family, client)
    if claims is None:
        return UserInfo(401, error="invalid_token", description="User disabled")
    signed_with = client.userinfo_signed_response_alg if client is not None else None
    encrypted_with = registered(client, USERINFO) if client is not None else None
    return UserInfo(200, claims, signed_with or None, encrypted_with, client)


def answer(info: UserInfo) -> Response:
    """The HTTP answer: the Bearer error, the signed JWT or the JSON claims."""
    if info.claims is None:
        return bearer_error(info.status, info.error, info.description, info.scheme)
    if info.encrypted_with and info.client is not None:
        return _encrypted(info.claims, info.client, info.encrypted_with, info.signed_with)
    if info.signed_with and info.client is not None:
        return _jwt_response(_signed_claims(info.claims, info.client))
    response = jsonify(info.claims)
    response.headers["Cache-Control"] = "no-store"
    return response


def _claims(grant: TokenFamily, client: Client | None) -> dict[str, Any] | None:
    settings = current_settings()
    granted = scopes.effective(grant.scope, settings.default_scopes)
    if grant.national_id is None:
        changes = issuance.changes_for("userinfo", grant.client_id, None)
        account = {
            "sub": service_account_subject(grant.client_id),
            "preferred_username": f"service-account-{grant.client_id}",
            "email_verified": False,
            **scopes.claims_for(scopes.USERINFO, granted, scopes.Subject(None, client)),
        }
        return changes.apply(account) if changes is not None else account
    practitioner = read_practitioner(grant.national_id)
    if practitioner is None or not practitioner.active:
        return None
    auth_mode = grant.auth_mode or ""
    subject_of = scopes.Subject(practitioner, client)
    standard = scopes.claims_for(scopes.USERINFO, granted, subject_of)
    if client is not None:
        standard.update(requested_claims(grant.claims, "userinfo", subject_of, client.scopes or []))
    changes = issuance.changes_for("userinfo", grant.client_id, grant.national_id)
    claims = build_userinfo(
        practitioner,
        sub=subject_for(settings, client, practitioner.national_id),
        auth_mode=auth_mode,
        palier=settings.palier_by_auth_mode.get(auth_mode, ""),
        scopes=granted,
        profile=(changes and changes.userinfo_profile) or settings.userinfo_profile,
        standard=standard,
    )
    claims = with_amr(claims, grant.amr)
    return changes.apply(claims) if changes is not None else claims


def with_amr(claims: dict[str, Any], amr: str | None) -> dict[str, Any]:
    """The login's ``amr`` (an establishment's, FI Tiers) right after ``authMode``, as in the ID
    token; PSC's own means have none and their UserInfo is unchanged."""
    if not amr:
        return claims
    if "authMode" not in claims:
        return {**claims, "amr": amr.split()}
    ordered: dict[str, Any] = {}
    for name, value in claims.items():
        ordered[name] = value
        if name == "authMode":
            ordered["amr"] = amr.split()
    return ordered


def _signed_claims(claims: dict[str, Any], client: Client) -> str:
    settings = current_settings()
    body = {**envelope(settings, settings.id_token_lifetime), "aud": client.client_id, **claims}
    return sign(body, client.userinfo_signed_response_alg)


def _encrypted(
    claims: dict[str, Any], client: Client, choice: Choice, signed_with: str | None
) -> Response:
    """OIDC Core §5.3.2: signed then encrypted when both are registered, else the JSON
    encrypted. A client whose key cannot be had is told so as RFC 6750 says, never with the
    claims in clear."""
    if signed_with:
        plaintext, nested = _signed_claims(claims, client).encode("ascii"), True
    else:
        plaintext, nested = json.dumps(claims).encode(), False
    try:
        return _jwt_response(encrypt_to_client(client, choice, plaintext, nested))
    except EncryptionKeyUnavailable as error:
        return bearer_error(400, "invalid_request", f"UserInfo encryption: {error}")


def _jwt_response(value: str) -> Response:
    response = Response(value, mimetype="application/jwt")
    response.headers["Cache-Control"] = "no-store"
    return response
