"""Token introspection (RFC 7662), answering like Keycloak: the token's claims plus ``active``,
``client_id``, ``username`` and ``token_type``."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _Introspection

from psc_idp.directory.lookup import practitioner_is_active
from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.endpoints.issued import IssuedToken, find_issued_token
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import binding_satisfied


class IntrospectionEndpoint(_Introspection):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return find_issued_token(token_string, token_type_hint)

    def check_permission(self, token: IssuedToken, client: Client, request) -> bool:
        # Any confidential client of the realm may introspect (resource servers do), as Keycloak.
        return not client.is_public

    def create_introspection_payload(self, token: IssuedToken | None) -> dict[str, Any]:
        # A certificate-bound token is active only for a caller holding that certificate.
        if token is not None and token.kind == "access_token" and not binding_satisfied(token.row):
            return {"active": False}
        # As at UserInfo: a deactivated professional's tokens stop working (Keycloak: a
        # disabled user's tokens introspect as inactive).
        national_id = token.grant.national_id if token is not None else None
        if national_id and not practitioner_is_active(national_id):
            return {"active": False}
        return super().create_introspection_payload(token)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        claims = dict(token.claims)
        claims["client_id"] = token.grant.client_id
        claims["username"] = claims.get("preferred_username") or token.grant.national_id or ""
        if token.kind == "access_token":
            claims["token_type"] = "Bearer"
        claims["active"] = True
        return claims
