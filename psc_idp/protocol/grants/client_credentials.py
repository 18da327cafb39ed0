"""Client credentials grant (RFC 6749 §4.4): a confidential client acting for itself
(Keycloak's service account). No refresh token, no ID token, as Keycloak by default; the realm's
default scopes are granted as to any other token."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants

from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import generate_token

GRANT_TYPE = grants.ClientCredentialsGrant.GRANT_TYPE


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        # Known (the server's check), allowed for the client, plus the realm's defaults.
        super().validate_requested_scope()
        self.request.scope = self.request.client.get_allowed_scope(self.request.payload.scope)

    def create_token_response(self):
        token = service_token(self.request.client, self.request.scope)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def service_token(client: Client, scope: str | None) -> dict[str, Any]:
    """The token response of a service account, its rows staged (``save_token`` writes them);
    ``scope`` already narrowed to what the client may have."""
    return generate_token(GRANT_TYPE, client, None, scope, include_refresh_token=False)
