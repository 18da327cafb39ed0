"""Client credentials grant (RFC 6749 §4.4): a confidential client acting for itself
(Keycloak's service account). No refresh token, no ID token, as Keycloak by default."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS
