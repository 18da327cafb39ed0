"""Refresh token grant (RFC 6749 §6) with rotation: each refresh token is single use, and a
rotated token presented again revokes its whole family (OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from sqlalchemy import update

from psc_idp.extensions import db
from psc_idp.login.sessions import session_is_active, touch_session
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.models import RefreshToken
from psc_idp.protocol.tokens import find_refresh_token, revoke_grant
from psc_idp.timeutil import now


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        row = find_refresh_token(refresh_token)
        if row is None or row.revoked_at is not None or row.grant.revoked_at is not None:
            return None
        if row.used_at is not None:
            revoke_grant(row.grant_id)
            db.session.commit()
            raise InvalidGrantError("Maximum allowed refresh token reuse exceeded")
        if row.expires_at < now():
            raise InvalidGrantError("Token is not active")
        if row.grant.sid and not session_is_active(row.grant.sid):
            raise InvalidGrantError("Session not active")
        if row.grant.sid:
            # As Keycloak: using a refresh token keeps the user session alive (idle timeout).
            touch_session(row.grant.sid)
        return row

    def authenticate_user(self, refresh_token: RefreshToken) -> TokenContext:
        # Rotation, atomically: of two concurrent refreshes with one token only one wins.
        won = db.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == refresh_token.token_hash, RefreshToken.used_at.is_(None)
            )
            .values(used_at=now())
        ).rowcount
        if won != 1:
            db.session.rollback()
            raise InvalidGrantError("Maximum allowed refresh token reuse exceeded")
        grant = refresh_token.grant
        return TokenContext.of_login(
            grant, nonce=grant.nonce, grant_id=grant.id, code_hash=grant.code_hash
        )

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Already marked used in ``authenticate_user``; committed with the new tokens."""
