"""Token introspection (RFC 7662), answering like Keycloak: the token's claims plus ``active``,
``client_id``, ``username`` and ``token_type``."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _Introspection

from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.endpoints.issued import PresentedToken, find_presented_token
from psc_idp.protocol.lookups import AccessTokenState
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import binding_matches


class IntrospectionEndpoint(_Introspection):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        # The token, its family, its client and its professional in one query.
        return find_presented_token(token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client: Client, request) -> bool:
        # Any confidential client of the realm may introspect (resource servers do), as Keycloak.
        return not client.is_public

    def create_introspection_payload(self, token: PresentedToken | None) -> dict[str, Any]:
        # A certificate-bound token is active only for a caller holding that certificate.
        state = token.state if token is not None else None
        if isinstance(state, AccessTokenState) and not binding_matches(state.cnf_x5t):
            return {"active": False}
        # As at UserInfo: a deactivated professional's tokens stop working (Keycloak: a
        # disabled user's tokens introspect as inactive).
        if token is not None and not token.family.person_may_act:
            return {"active": False}
        return super().create_introspection_payload(token)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        claims = dict(token.claims)
        claims["client_id"] = token.family.client_id
        claims["username"] = claims.get("preferred_username") or token.family.national_id or ""
        if token.kind == "access_token":
            claims["token_type"] = "Bearer"
        claims["active"] = True
        return claims
