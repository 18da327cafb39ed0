"""Refresh token grant (RFC 6749 §6) with rotation: each refresh token is single use, and a
rotated token presented again revokes its whole family (OAuth 2.0 Security BCP §4.14).

An offline token (``offline_access``, Keycloak's ``typ: Offline``) is not tied to the SSO
session: it outlives the browser session and its logout, and lasts while it is used within the
offline idle lifetime (and, if set, the offline maximum lifetime)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from psc_idp.protocol.dpop.binding import require_key
from psc_idp.protocol.keycloak_errors import INVALID_REFRESH_TOKEN, REFRESH_REUSE
from psc_idp.protocol.lookups import GrantRecord, RefreshTokenRecord, refresh_token_with_grant
from psc_idp.protocol.models import Client, RefreshToken
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.staged import stage
from psc_idp.protocol.tokens import generate_token, revoke_grant
from psc_idp.timeutil import now

SESSION_NOT_ACTIVE = "Session not active"
_REFRESH = RefreshToken.__table__


GRANT_TYPE = grants.RefreshTokenGrant.GRANT_TYPE


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshTokenRecord:
        # The token and its family in one Core query; the rotation below is the atomic check.
        row = refresh_token_with_grant(hash_secret(refresh_token, "refresh"))
        refused = token_refusal(row)
        if refused == REFRESH_REUSE:
            revoke_grant(row.grant_id)  # type: ignore[union-attr]
            db.session.commit()
        if refused is not None:
            raise InvalidGrantError(refused)
        assert row is not None
        if row.cnf_jkt:
            require_key(row.cnf_jkt, "refresh token")
        refused = session_refusal(row.grant)
        if refused is not None:
            raise InvalidGrantError(refused)
        keep_session_alive(row.grant)
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
        return rotated(refresh_token)

    def revoke_old_credential(self, refresh_token: RefreshTokenRecord) -> None:
        """Marked used by the rotation ``authenticate_user`` staged, with the new tokens."""


def token_refusal(row: RefreshTokenRecord | None) -> str | None:
    """Why this token can no longer be refreshed, read without writing anything (a reuse,
    ``REFRESH_REUSE``, ends the family: the caller's write); None while it can."""
    if row is None:
        return INVALID_REFRESH_TOKEN
    if row.revoked_at is not None or row.grant.revoked_at is not None:
        # Revoked, logged out, or its family ended by a reuse: its session is over.
        return SESSION_NOT_ACTIVE
    if row.used_at is not None:
        return REFRESH_REUSE
    if row.expires_at < now():
        return "Token is not active"
    return None


def session_refusal(grant: GrantRecord) -> str | None:
    """Why the session behind the family is over (an offline one by its maximum lifetime,
    another by its SSO session); None while it lasts."""
    if scopes.is_offline(grant.scope):
        limit = current_settings().offline_session_max_lifetime
        if limit and grant.created_at + timedelta(seconds=limit) < now():
            return "Offline session not active"
    elif grant.sid and not session_is_active(grant.sid):
        return SESSION_NOT_ACTIVE
    return None


def keep_session_alive(grant: GrantRecord) -> None:
    """As Keycloak: using a refresh token keeps its SSO session alive (idle timeout); an
    offline token's session is not the browser's."""
    if grant.sid and not scopes.is_offline(grant.scope):
        sid = grant.sid
        stage(lambda: touch_session(sid))


def rotated(token: RefreshTokenRecord) -> TokenContext:
    """The login the new tokens are issued for, the old token's rotation staged."""
    stage(lambda: _rotate(token.token_hash))
    grant = token.grant
    return TokenContext.of_login(
        grant,
        nonce=grant.nonce,
        claims=grant.claims,
        grant_id=grant.id,
        grant_scope=grant.scope or "",
        code_hash=grant.code_hash,
    )


def refreshed(client: Client, refresh_token: str) -> dict[str, Any] | None:
    """The token response of a plain refresh (the client's own token, not bound to a DPoP
    key, its session alive, the scope unchanged), its rows and the rotation staged; None,
    having written nothing, for anything the grant above must answer (its refusals, the end
    of a family reused)."""
    row = refresh_token_with_grant(hash_secret(refresh_token, "refresh"))
    if token_refusal(row) is not None or row is None or row.cnf_jkt:
        return None
    if not row.check_client(client) or session_refusal(row.grant) is not None:
        return None
    keep_session_alive(row.grant)
    user = rotated(row)
    return generate_token(GRANT_TYPE, client, user, row.get_scope(), include_refresh_token=True)


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
