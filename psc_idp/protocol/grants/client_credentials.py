"""Client credentials grant (RFC 6749 §4.4): a confidential client acting for itself
(Keycloak's service account). No refresh token, no ID token, as Keycloak by default; the realm's
default scopes are granted as to any other token."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        # Known (the server's check), allowed for the client, plus the realm's defaults.
        super().validate_requested_scope()
        self.request.scope = self.request.client.get_allowed_scope(self.request.payload.scope)

    def create_token_response(self):
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
