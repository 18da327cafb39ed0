"""The checks a journaled request failed, and what was accepted but worth telling.

Read from what the client sent and what it got, after the fact: the protocol is not asked
(it stays below, unaware of the journal). A check is a **refusal** when the answer was an error
that it explains, a **warning** when the request went through (or failed for another reason)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from psc_idp.protocol.client_auth.assertion import BAD_SIGNATURE, CLAIM_ERRORS
from psc_idp.protocol.scopes import unknown

#: The levels PSC knows (docs: ../shared/psc-reference.md, the realm's scopes ``eidas1``…).
KNOWN_ACR = frozenset({"eidas1", "eidas2", "eidas3"})
ASSERTION_EXPIRED = CLAIM_ERRORS[jwt.ExpiredSignatureError]
ASSERTION_REPLAYED = "JWT ID is used before."


@dataclass(frozen=True)
class Check:
    french: str
    english: str


#: Every check, by code: its short labels (the page shows the French, ``--json`` both).
CHECKS: dict[str, Check] = {
    "client_unknown": Check("client inconnu", "unknown client"),
    "redirect_uri_unregistered": Check("redirect_uri non enregistrée", "unregistered redirect URI"),
    "nonce_missing": Check("nonce absent", "missing nonce"),
    "state_missing": Check("state absent", "missing state"),
    "pkce_missing": Check("PKCE absent", "no PKCE"),
    "pkce_plain": Check("PKCE « plain » (S256 attendu)", "plain PKCE (S256 expected)"),
    "pkce_verifier_wrong": Check(
        "code_verifier absent ou incorrect", "missing or wrong code_verifier"
    ),
    "acr_unknown": Check("acr_values inconnue de PSC", "acr_values unknown to PSC"),
    "scope_unknown": Check("scope inconnu", "unknown scope"),
    "client_secret_wrong": Check("secret client incorrect", "wrong client secret"),
    "client_auth_missing": Check("authentification client absente", "no client authentication"),
    "assertion_expired": Check("assertion client expirée", "expired client assertion"),
    "assertion_replayed": Check("assertion client rejouée (jti)", "replayed client assertion"),
    "assertion_signature": Check(
        "signature de l'assertion client invalide", "bad client assertion signature"
    ),
    "assertion_invalid": Check("assertion client refusée", "client assertion refused"),
    "code_invalid": Check("code invalide, expiré ou déjà utilisé", "invalid or used code"),
    "refresh_token_invalid": Check("refresh token invalide", "invalid refresh token"),
    "token_invalid": Check("jeton invalide ou expiré", "invalid or expired token"),
}
#: Accepted requests may still carry these: a refusal only when the answer is an error.
_EITHER = frozenset({"nonce_missing", "pkce_missing", "acr_unknown", "scope_unknown"})
#: Never the cause of a refusal.
_WARNINGS = frozenset({"state_missing", "pkce_plain"})
#: The kinds that carry an authorization request (its parameters in the query or the form).
AUTHORIZATION_KINDS = frozenset({"authorize", "par"})


def detect(
    kind: str,
    params: Mapping[str, str],
    client: Any | None,
    answer: Mapping[str, Any],
    basic_secret: bool,
) -> list[dict[str, Any]]:
    """``[{"code", "refusal"}]`` in a stable order, each code once."""
    failed = answer.get("error") is not None
    found: list[str] = []
    if params.get("client_id") and client is None and kind in AUTHORIZATION_KINDS:
        found.append("client_unknown")
    if kind in AUTHORIZATION_KINDS and client is not None:
        found += _authorization(params, client)
    if kind in AUTHORIZATION_KINDS or kind in ("token", "ciba"):
        found += _scopes_and_acr(params)
    found += _from_answer(kind, params, client, answer, basic_secret)
    codes = list(dict.fromkeys(found))
    return [{"code": code, "refusal": _refusal(code, failed)} for code in codes]


def _refusal(code: str, failed: bool) -> bool:
    if code in _WARNINGS:
        return False
    if code in _EITHER:
        return failed
    return True


def _authorization(params: Mapping[str, str], client: Any) -> list[str]:
    found: list[str] = []
    redirect_uri = params.get("redirect_uri")
    if redirect_uri and not client.check_redirect_uri(redirect_uri):
        found.append("redirect_uri_unregistered")
    if params.get("request") or params.get("request_uri"):
        return found  # the parameters are in the request object: not read here
    scopes = params.get("scope", "").split()
    response_type = params.get("response_type", "").split()
    if "openid" in scopes and not params.get("nonce"):
        found.append("nonce_missing")
    if "code" in response_type:
        if not params.get("code_challenge"):
            found.append("pkce_missing")
        elif params.get("code_challenge_method", "plain") == "plain":
            found.append("pkce_plain")
    if not params.get("state"):
        found.append("state_missing")
    return found


def _scopes_and_acr(params: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    if unknown(params.get("scope", "").split()):
        found.append("scope_unknown")
    acr_values = params.get("acr_values", "").split()
    if any(value not in KNOWN_ACR for value in acr_values):
        found.append("acr_unknown")
    return found


def _from_answer(
    kind: str,
    params: Mapping[str, str],
    client: Any | None,
    answer: Mapping[str, Any],
    basic_secret: bool,
) -> list[str]:
    error = answer.get("error")
    description = str(answer.get("error_description") or "")
    if error is None:
        return []
    if error == "invalid_client":
        if client is None:
            return ["client_unknown"]
        return [_client_auth(params, description, basic_secret)]
    if error == "invalid_scope":
        return ["scope_unknown"]
    if error == "invalid_grant":
        grant_type = params.get("grant_type")
        if "pkce" in description.lower() or "verifier" in description.lower():
            return ["pkce_verifier_wrong"]
        if grant_type == "authorization_code":
            return ["code_invalid"]
        if grant_type == "refresh_token":
            return ["refresh_token_invalid"]
    if error == "invalid_token" or (kind == "userinfo" and answer.get("status") == 401):
        return ["token_invalid"]
    if error == "invalid_request" and "code_challenge" in description:
        return ["pkce_missing"]
    return []


def _client_auth(params: Mapping[str, str], description: str, basic_secret: bool) -> str:
    if params.get("client_assertion"):
        if description == ASSERTION_EXPIRED:
            return "assertion_expired"
        if description == ASSERTION_REPLAYED:
            return "assertion_replayed"
        if description == BAD_SIGNATURE:
            return "assertion_signature"
        return "assertion_invalid"
    if basic_secret or params.get("client_secret"):
        return "client_secret_wrong"  # Keycloak's words say no more (INVALID_CLIENT)
    return "client_auth_missing"


def label(code: str) -> Check:
    return CHECKS.get(code, Check(code, code))
