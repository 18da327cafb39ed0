"""The subject token: a PSC access token of the exchanging client, for an active professional.

``…:access_token``: read as PSC's introspection reads it (signature, expiry, revocation, the
certificate it is bound to, the professional still active). ``…:jwt``: checked by itself
(signature with the realm's keys, ``exp``, ``iss``) and the professional still active, without
the token's row: what a remote authorization server can check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidGrantError

from psc_idp.api_as.errors import refused_token
from psc_idp.api_as.issuer import ACCESS_TOKEN_TYPE, JWT_TYPE
from psc_idp.config import current_settings
from psc_idp.directory.reading import is_active
from psc_idp.protocol.endpoints.introspection import introspection_result
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import decode_access_token

SUBJECT_TOKEN_TYPES = (ACCESS_TOKEN_TYPE, JWT_TYPE)
#: ``subject_issuer`` as Keycloak's external exchange names an identity provider: PSC's alias,
#: or its issuer.
PSC_ALIAS = "psc"


@dataclass(frozen=True)
class Subject:
    national_id: str
    jti: str
    exp: int
    acr: str
    auth_mode: str


def check_subject_issuer(value: str | None) -> None:
    if value is not None and value not in (PSC_ALIAS, current_settings().issuer):
        raise refused_token(f"Unknown subject_issuer {value[:100]!r}: psc or PSC's issuer")


def verified_subject(client: Client, value: str, token_type: str) -> Subject:
    if token_type not in SUBJECT_TOKEN_TYPES:
        raise refused_token("subject_token_type must be " + " or ".join(SUBJECT_TOKEN_TYPES))
    if token_type == ACCESS_TOKEN_TYPE:
        claims = _introspected(client, value)
    else:
        claims = _self_contained(value)
    if claims.get("azp") != client.client_id:
        raise refused_token("Subject token was issued to another client")
    national_id = str(claims.get("SubjectNameID") or "")
    if not national_id:
        raise refused_token("Subject token does not name a professional")
    active = is_active(national_id)
    if active is None:
        raise refused_token("Subject token does not name a known professional")
    if not active:
        # Keycloak's answer when the user behind a grant was disabled (PSC's token endpoint).
        raise InvalidGrantError("User disabled")
    return Subject(
        national_id=national_id,
        jti=str(claims["jti"]),
        exp=int(claims["exp"]),
        acr=str(claims.get("acr") or ""),
        auth_mode=str(claims.get("authMode") or ""),
    )


def _introspected(client: Client, value: str) -> dict[str, Any]:
    _, payload, _ = introspection_result(client, value, "access_token")
    if not payload.get("active"):
        # Introspection says no more; a deactivated professional is told apart, as for a
        # self-contained token (``invalid_grant``).
        claims = decode_access_token(value) or {}
        if claims.get("SubjectNameID") and is_active(str(claims["SubjectNameID"])) is False:
            raise InvalidGrantError("User disabled")
        raise refused_token("Subject token is not active (expired, revoked or unknown)")
    if payload.get("token_type") != "Bearer":
        raise refused_token("Subject token is not an access token")
    return payload


def _self_contained(value: str) -> dict[str, Any]:
    claims = decode_access_token(value)
    if claims is None:
        raise refused_token("Subject token is not a valid PSC access token (signature, exp, iss)")
    if claims.get("typ") != "Bearer":
        raise refused_token("Subject token is not an access token")
    return claims
