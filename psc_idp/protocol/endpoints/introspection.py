"""Token introspection (RFC 7662), answering like Keycloak: the token's claims plus ``active``,
``client_id``, ``username`` and ``token_type``.

``introspection_result`` is the answer for a client already authenticated, whoever carried the
request: Authlib's endpoint below, or the workers' shortcut (``protocol/direct.py``)."""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _Introspection

from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.endpoints.issued import PresentedToken, find_presented_token
from psc_idp.protocol.lookups import AccessTokenState
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import BindingCheck, binding_matches

INACTIVE: dict[str, Any] = {"active": False}


class IntrospectionEndpoint(_Introspection):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def create_endpoint_response(self, request) -> tuple[int, dict[str, Any], list]:
        # Authlib's steps in Authlib's order: the client, the parameters, then the token.
        client = self.authenticate_endpoint_client(request)
        self.check_params(request, client)
        return introspection_result(
            client, request.form["token"], request.form.get("token_type_hint")
        )


def introspection_result(
    client: Client,
    value: str,
    hint: str | None,
    binding_ok: BindingCheck = binding_matches,
) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    """``(status, payload, headers)`` for an authenticated client introspecting ``value``;
    ``binding_ok`` says whether the request may use a certificate-bound token."""
    # Any confidential client of the realm may introspect (resource servers do), as Keycloak.
    if client.is_public:
        return 200, dict(INACTIVE), default_json_headers
    # The token, its family, its client and its professional in one query.
    token = find_presented_token(value, hint)
    return 200, _payload(token, binding_ok), default_json_headers


def _payload(token: PresentedToken | None, binding_ok: BindingCheck) -> dict[str, Any]:
    if token is None:
        return dict(INACTIVE)
    # A certificate-bound token is active only for a caller holding that certificate.
    state = token.state
    if isinstance(state, AccessTokenState) and not binding_ok(state.cnf_x5t):
        return dict(INACTIVE)
    # As at UserInfo: a deactivated professional's tokens stop working (Keycloak: a
    # disabled user's tokens introspect as inactive).
    if not token.family.person_may_act:
        return dict(INACTIVE)
    if token.is_expired() or token.is_revoked():
        return dict(INACTIVE)
    claims = dict(token.claims)
    claims["client_id"] = token.family.client_id
    claims["username"] = claims.get("preferred_username") or token.family.national_id or ""
    if token.kind == "access_token":
        # RFC 9449 §6.2: a DPoP-bound token says so; its ``cnf.jkt`` is among its claims, for
        # the resource server to compare with the proof it received.
        bound = isinstance(state, AccessTokenState) and state.cnf_jkt is not None
        claims["token_type"] = "DPoP" if bound else "Bearer"
    claims["active"] = True
    return claims
