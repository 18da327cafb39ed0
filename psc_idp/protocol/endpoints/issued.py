"""A token presented back to the server (introspection, revocation), whatever its kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app

from psc_idp.extensions import db
from psc_idp.protocol.lookups import (
    AccessTokenState,
    RefreshTokenState,
    TokenFamily,
    access_token_state,
    refresh_token_state,
)
from psc_idp.protocol.models import AccessToken, Client, Grant, RefreshToken
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.tokens import decode_access_token, find_refresh_token, grant_is_live
from psc_idp.timeutil import now


@dataclass
class IssuedToken:
    kind: str  # "access_token" | "refresh_token"
    row: AccessToken | RefreshToken
    claims: dict[str, Any]

    @property
    def grant(self) -> Grant:
        return self.row.grant

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.client_id

    def is_expired(self) -> bool:
        return self.row.expires_at < now()

    def is_revoked(self) -> bool:
        used = isinstance(self.row, RefreshToken) and self.row.used_at is not None
        return self.row.revoked_at is not None or not grant_is_live(self.grant) or used


def find_issued_token(value: str, hint: str | None) -> IssuedToken | None:
    return _in_hint_order(value, hint, _find_access, _find_refresh)


def _in_hint_order(value: str, hint: str | None, access: Callable, refresh: Callable):
    """The kind the hint names is tried first (RFC 7009 §2.1, RFC 7662 §2.1), then the other."""
    if len(value) > 8192:
        return None
    finders = (refresh, access) if hint == "refresh_token" else (access, refresh)
    for find in finders:
        token = find(value)
        if token is not None:
            return token
    return None


def _find_access(value: str) -> IssuedToken | None:
    claims = decode_access_token(value)
    if claims is None:
        return None
    row = db.session.get(AccessToken, claims.get("jti", ""))
    return IssuedToken("access_token", row, claims) if row is not None else None


def _find_refresh(value: str) -> IssuedToken | None:
    row = find_refresh_token(value)
    if row is None:
        return None
    return IssuedToken("refresh_token", row, _refresh_claims(value))


def _refresh_claims(value: str) -> dict[str, Any]:
    key = current_app.extensions["psc_app_secret"].derive("refresh-token")
    return jwt.decode(
        value, key, algorithms=["HS512"], options={"verify_exp": False, "verify_aud": False}
    )


# --- introspection: the same tokens, read in one Core query each (protocol.lookups) ---------
@dataclass
class PresentedToken:
    kind: str  # "access_token" | "refresh_token"
    state: AccessTokenState | RefreshTokenState
    claims: dict[str, Any]

    @property
    def family(self) -> TokenFamily:
        return self.state.family

    def is_expired(self) -> bool:
        return self.state.expires_at < now()

    def is_revoked(self) -> bool:
        used = isinstance(self.state, RefreshTokenState) and self.state.used_at is not None
        return self.state.revoked_at is not None or not self.family.live or used


def find_presented_token(value: str, hint: str | None) -> PresentedToken | None:
    """As ``find_issued_token``, for a reader that changes nothing (introspection)."""
    return _in_hint_order(value, hint, _presented_access, _presented_refresh)


def _presented_access(value: str) -> PresentedToken | None:
    claims = decode_access_token(value)
    if claims is None:
        return None
    state = access_token_state(str(claims.get("jti", "")))
    return PresentedToken("access_token", state, claims) if state is not None else None


def _presented_refresh(value: str) -> PresentedToken | None:
    state = refresh_token_state(hash_secret(value, "refresh"))
    if state is None:
        return None
    return PresentedToken("refresh_token", state, _refresh_claims(value))
