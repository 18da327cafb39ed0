"""Authorization code grant (RFC 6749 §4.1, OIDC Core §3.1) with PKCE (RFC 7636), as PSC.

The authorization-side checks beyond Authlib's live in ``protocol.authorize_checks`` and are
called explicitly; the token side is single use: a replayed code revokes what it issued.
"""

from __future__ import annotations

from datetime import timedelta

from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636.challenge import (
    CODE_VERIFIER_PATTERN,
    compare_plain_code_challenge,
    compare_s256_code_challenge,
)
from sqlalchemy import update

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.protocol import authorize_checks
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.dpop.binding import require_key
from psc_idp.protocol.models import AuthorizationCode, Client
from psc_idp.protocol.responses import authorization_redirect
from psc_idp.protocol.secrets import hash_secret, new_secret
from psc_idp.protocol.tokens import revoke_grants_of_code
from psc_idp.timeutil import now

_PKCE = {"S256": compare_s256_code_challenge, "plain": compare_plain_code_challenge}


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    # --- authorization endpoint -----------------------------------------------------------
    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Client) -> str:
        """Exact match against the registered URIs (the client's value is never echoed)."""
        requested = request.payload.redirect_uri
        if requested:
            if not client.check_redirect_uri(requested):
                raise InvalidRequestError("Invalid parameter: redirect_uri")
            return requested
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("Missing parameter: redirect_uri")
        return default

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        try:
            authorize_checks.check_all(self.request, self.client)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def create_authorization_response(self, redirect_uri: str, grant_user: TokenContext):
        """Issue the code and send it back with ``state``, ``session_state`` and ``iss``. The
        response is made before the code is kept: a response that cannot be encrypted
        (``EncryptionKeyUnavailable``) leaves no code behind."""
        self.request.user = grant_user
        code = self.generate_authorization_code()
        params = [("code", code)]
        if self.request.payload.state:
            params.append(("state", self.request.payload.state))
        params.append(("session_state", grant_user.sid or ""))
        response = authorization_redirect(
            redirect_uri, params, self.request.payload.data, self.client
        )
        self.save_authorization_code(code, self.request)
        return response

    def generate_authorization_code(self) -> str:
        return new_secret(32)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        user: TokenContext = request.user
        data = request.payload.data
        challenge = data.get("code_challenge")
        db.session.add(
            AuthorizationCode(
                code_hash=hash_secret(code, "code"),
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope,
                nonce=data.get("nonce"),
                claims=data.get("claims"),
                code_challenge=challenge,
                code_challenge_method=(data.get("code_challenge_method") or "plain")
                if challenge
                else None,
                dpop_jkt=data.get("dpop_jkt"),
                national_id=user.national_id,
                sid=user.sid,
                auth_time=user.auth_time,
                acr=user.acr,
                auth_mode=user.auth_mode,
                amr=user.amr,
                expires_at=now() + timedelta(seconds=current_settings().code_lifetime),
            )
        )
        db.session.commit()

    # --- token endpoint -------------------------------------------------------------------
    def validate_token_request(self) -> None:
        super().validate_token_request()
        self._check_code_verifier()
        code: AuthorizationCode = self.request.authorization_code
        if code.dpop_jkt:
            require_key(code.dpop_jkt, "dpop_jkt of the authorization request")

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        row = db.session.get(AuthorizationCode, hash_secret(code, "code"))
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice revokes every token it issued.
            revoke_grants_of_code(row.code_hash)
            db.session.commit()
            raise InvalidGrantError("Code not valid")
        if row.expires_at < now():
            raise InvalidGrantError("Code not valid")
        return row

    def _check_code_verifier(self) -> None:
        code: AuthorizationCode = self.request.authorization_code
        verifier = self.request.form.get("code_verifier")
        if not code.code_challenge:
            if verifier:
                raise InvalidGrantError("PKCE verification failed: no code_challenge was sent")
            return
        if not verifier:
            raise InvalidGrantError("PKCE code verifier not specified")
        if not CODE_VERIFIER_PATTERN.match(verifier):
            raise InvalidGrantError("PKCE verification failed: Invalid code verifier")
        if not _PKCE[code.code_challenge_method or "plain"](verifier, code.code_challenge):
            raise InvalidGrantError("PKCE verification failed: Code mismatch")

    def authenticate_user(self, authorization_code: AuthorizationCode) -> TokenContext:
        # Single use, atomically: of two concurrent exchanges only one wins.
        won = db.session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == authorization_code.code_hash,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now())
        ).rowcount
        if won != 1:
            db.session.rollback()
            raise InvalidGrantError("Code not valid")
        return TokenContext.of_login(
            authorization_code,
            nonce=authorization_code.nonce,
            claims=authorization_code.claims,
            code_hash=authorization_code.code_hash,
        )

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Kept (marked used) so that a replay is recognised and revokes the tokens."""
