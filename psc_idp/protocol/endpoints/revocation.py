"""Token revocation (RFC 7009). Revoking a refresh token ends its whole family (an offline one
included), as Keycloak; revoking an access token ends that token only. The answer is an empty
200, as Keycloak's (RFC 7009 §2.2: the content is ignored by the client)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import UnauthorizedClientError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _Revocation

from psc_idp import audit
from psc_idp.audit import events
from psc_idp.extensions import db
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.endpoints.issued import IssuedToken, find_issued_token
from psc_idp.protocol.tokens import revoke_grant
from psc_idp.timeutil import now


class RevocationEndpoint(_Revocation):
    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def create_endpoint_response(self, request) -> tuple[int, str, list[tuple[str, str]]]:
        status, _, headers = super().create_endpoint_response(request)
        return status, "", [(name, value) for name, value in headers if name != "Content-Type"]

    def authenticate_token(self, request, client) -> IssuedToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and not token.check_client(client):
            raise UnauthorizedClientError("Token was not issued to this client")
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return find_issued_token(token_string, token_type_hint)

    def revoke_token(self, token: IssuedToken, request) -> None:
        grant = token.grant
        if token.kind == "refresh_token":
            revoke_grant(grant.id)
        else:
            token.row.revoked_at = now()
        audit.record(
            events.TOKEN_REVOKED,
            grant.national_id,
            client_id=grant.client_id,
            means=grant.auth_mode,
            acr=grant.acr,
            outcome="success",
            kind=token.kind,
            grant=grant.id,
        )
        db.session.commit()
