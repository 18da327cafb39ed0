"""The authorization server of the protected APIs: PSC's own server class (clients, rate
limits, staged writes, errors in RFC form), with one client authentication method and one
grant. Each API's issuer routes its token requests here."""

from __future__ import annotations

from flask import Flask

from psc_idp.api_as.grant import TokenExchangeGrant
from psc_idp.protocol.client_auth import tls_client_auth
from psc_idp.protocol.server import AuthorizationServer


class ApiAuthorizationServer(AuthorizationServer):
    def validate_requested_scope(self, scope: str | None) -> None:
        """Business scopes are the API's (the grant checks them), not PSC's catalogue."""


def create_api_server(app: Flask) -> ApiAuthorizationServer:
    server = ApiAuthorizationServer()
    server.init_app(app)
    server.register_client_auth_method(
        tls_client_auth.METHOD, tls_client_auth.authenticate_tls_client
    )
    server.register_grant(TokenExchangeGrant)
    return server
