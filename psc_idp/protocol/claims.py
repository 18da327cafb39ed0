"""Claims of PSC tokens (psc-reference §4): what goes in the ID token and the access token.

The sectoral claims are only in UserInfo (``psc_idp.directory.userinfo``), as at PSC.
"""

from __future__ import annotations

import uuid
from typing import Any

from psc_idp.config import Settings
from psc_idp.directory.userinfo import build_userinfo, other_ids
from psc_idp.protocol import pairwise
from psc_idp.protocol.context import TokenContext

SERVICE_ACCOUNT_NAMESPACE = uuid.UUID("4c1c2f7e-8a0e-4a8e-9f57-6a5b0e3d2c11")


# Claim order of PSC's tokens (psc-reference §4); JSON order carries no meaning, but SPs compare
# payloads side by side with the real ones.
ID_TOKEN_ORDER = (
    "exp",
    "iat",
    "auth_time",
    "jti",
    "iss",
    "aud",
    "sub",
    "typ",
    "azp",
    "nonce",
    "session_state",
    "at_hash",
    "sid",
    "authMode",
    "acr",
    "SubjectNameID",
    "preferred_username",
    "given_name",
    "family_name",
)
ACCESS_TOKEN_ORDER = (
    "exp",
    "iat",
    "auth_time",
    "jti",
    "iss",
    "sub",
    "typ",
    "azp",
    "nonce",
    "session_state",
    "acr",
    "scope",
    "sid",
    "authMode",
    "clientId",
    "preferred_username",
    "SubjectNameID",
    "otherIds",
)


def in_order(claims: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    rank = {name: index for index, name in enumerate(order)}
    return dict(sorted(claims.items(), key=lambda item: rank.get(item[0], len(rank))))


def subject(settings: Settings, national_id: str) -> str:
    return f"{settings.sub_prefix}{national_id}"


def subject_for(settings: Settings, client: Any, national_id: str) -> str:
    """The ``sub`` ``client`` sees: PSC's public one, or its sector's pairwise one."""
    return pairwise.subject_for(client, national_id, subject(settings, national_id))


def service_account_subject(client_id: str) -> str:
    """Keycloak gives each client a service-account user; its id is stable per client."""
    return str(uuid.uuid5(SERVICE_ACCOUNT_NAMESPACE, client_id))


def identity_claims(
    settings: Settings, practitioner: Any, sub: str | None = None
) -> dict[str, Any]:
    """``sub`` (PSC's public one unless given), ``SubjectNameID``, ``preferred_username``,
    ``given_name``, ``family_name``."""
    basic = build_userinfo(
        practitioner,
        sub=sub or subject(settings, practitioner.national_id),
        auth_mode="",
        palier="",
        scopes={"openid"},
        profile=settings.userinfo_profile,
    )
    keep = ("sub", "SubjectNameID", "preferred_username", "given_name", "family_name")
    return {key: basic[key] for key in keep if key in basic}


def session_claims(ctx: TokenContext) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if ctx.sid:
        claims["session_state"] = ctx.sid
        claims["sid"] = ctx.sid
    if ctx.auth_time is not None:
        claims["auth_time"] = ctx.auth_time
    if ctx.acr:
        claims["acr"] = ctx.acr
    if ctx.auth_mode:
        claims["authMode"] = ctx.auth_mode
    if ctx.amr:
        claims["amr"] = ctx.amr.split()  # OIDC Core §2: the methods, as the establishment said
    return claims


def id_token_claims(
    settings: Settings,
    client_id: str,
    ctx: TokenContext,
    practitioner: Any,
    sub: str | None = None,
) -> dict[str, Any]:
    claims: dict[str, Any] = {"aud": client_id, "typ": "ID", "azp": client_id}
    if ctx.nonce:
        claims["nonce"] = ctx.nonce
    claims.update(session_claims(ctx))
    claims.update(identity_claims(settings, practitioner, sub))
    return claims


def access_token_claims(
    settings: Settings,
    client_id: str,
    scope: str,
    ctx: TokenContext,
    practitioner: Any | None,
    sub: str | None = None,
) -> dict[str, Any]:
    # PSC access tokens carry no ``aud`` (sample in psc-reference §4).
    claims: dict[str, Any] = {"typ": "Bearer", "azp": client_id}
    if practitioner is None:
        claims.update(
            sub=service_account_subject(client_id),
            preferred_username=f"service-account-{client_id}",
            clientId=client_id,
            scope=scope,
        )
        return claims
    claims["nonce"] = ctx.nonce or ""
    claims.update(session_claims(ctx))
    claims["scope"] = scope
    identity = identity_claims(settings, practitioner, sub)
    claims.update(
        sub=identity["sub"],
        preferred_username=identity["preferred_username"],
        SubjectNameID=identity["SubjectNameID"],
        otherIds=other_ids(practitioner),
    )
    return claims
