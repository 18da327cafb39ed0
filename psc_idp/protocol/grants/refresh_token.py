"""Refresh token grant (RFC 6749 §6) with rotation: each refresh token is single use, and a
rotated token presented again revokes its whole family (OAuth 2.0 Security BCP §4.14).

An offline token (``offline_access``, Keycloak's ``typ: Offline``) is not tied to the SSO
session: it outlives the browser session and its logout, and lasts while it is used within the
offline idle lifetime (and, if set, the offline maximum lifetime)."""

from __future__ import annotations

from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from sqlalchemy import bindparam, update

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.sessions import session_is_active, touch_session
from psc_idp.prepared_sql import PreparedWrite
from psc_idp.protocol import scopes
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.keycloak_errors import INVALID_REFRESH_TOKEN, REFRESH_REUSE
from psc_idp.protocol.lookups import GrantRecord, RefreshTokenRecord, refresh_token_with_grant
from psc_idp.protocol.models import RefreshToken
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.staged import stage
from psc_idp.protocol.tokens import revoke_grant
from psc_idp.timeutil import now

SESSION_NOT_ACTIVE = "Session not active"
_REFRESH = RefreshToken.__table__


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshTokenRecord:
        # The token and its family in one Core query; the rotation below is the atomic check.
        row = refresh_token_with_grant(hash_secret(refresh_token, "refresh"))
        if row is None:
            raise InvalidGrantError(INVALID_REFRESH_TOKEN)
        if row.revoked_at is not None or row.grant.revoked_at is not None:
            # Revoked, logged out, or its family ended by a reuse: its session is over.
            raise InvalidGrantError(SESSION_NOT_ACTIVE)
        if row.used_at is not None:
            revoke_grant(row.grant_id)
            db.session.commit()
            raise InvalidGrantError(REFRESH_REUSE)
        if row.expires_at < now():
            raise InvalidGrantError("Token is not active")
        if scopes.is_offline(row.grant.scope):
            _check_offline_session(row.grant)
        elif row.grant.sid:
            if not session_is_active(row.grant.sid):
                raise InvalidGrantError(SESSION_NOT_ACTIVE)
            # As Keycloak: using a refresh token keeps the user session alive (idle timeout).
            sid = row.grant.sid
            stage(lambda: touch_session(sid))
        return row

    def _validate_token_scope(self, token: RefreshTokenRecord) -> None:
        """RFC 6749 §6: a refresh may narrow the scope, never widen it; the scopes it may not
        have are named, as Keycloak names invalid scopes."""
        requested = (self.request.payload.scope or "").split()
        scopes.check_known(" ".join(requested))
        original = set(token.get_scope().split())
        wider = [name for name in requested if name not in original]
        if wider:
            raise scopes.invalid_scopes(wider)

    def authenticate_user(self, refresh_token: RefreshTokenRecord) -> TokenContext:
        stage(lambda: _rotate(refresh_token.token_hash))
        grant = refresh_token.grant
        return TokenContext.of_login(
            grant,
            nonce=grant.nonce,
            claims=grant.claims,
            grant_id=grant.id,
            code_hash=grant.code_hash,
        )

    def revoke_old_credential(self, refresh_token: RefreshTokenRecord) -> None:
        """Marked used by the rotation ``authenticate_user`` staged, with the new tokens."""


_MARK_USED = PreparedWrite(
    update(_REFRESH)
    .where(_REFRESH.c.token_hash == bindparam("hashed"), _REFRESH.c.used_at.is_(None))
    .values(used_at=bindparam("used"))
)


def _rotate(token_hash: str) -> None:
    """Mark the token used, atomically: of two concurrent refreshes with one token only one
    wins; the other's new tokens are never committed."""
    won = _MARK_USED.execute(db.session.connection(), hashed=token_hash, used=now())
    if won != 1:
        raise InvalidGrantError(REFRESH_REUSE)


def _check_offline_session(grant: GrantRecord) -> None:
    limit = current_settings().offline_session_max_lifetime
    if limit and grant.created_at + timedelta(seconds=limit) < now():
        raise InvalidGrantError("Offline session not active")
