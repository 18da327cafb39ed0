"""The authorization server: every grant, endpoint and client-authentication method is registered
here, on one screen."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    UnsupportedTokenTypeError,
)
from flask import Flask, Response, has_request_context
from flask import request as flask_request

from psc_idp import rate_limits
from psc_idp.extensions import db
from psc_idp.observe.metrics import count_token
from psc_idp.observe.request_id import note_client
from psc_idp.protocol.ciba.endpoint import BackchannelAuthenticationEndpoint
from psc_idp.protocol.ciba.grant import CibaGrant
from psc_idp.protocol.client_auth import tls_client_auth
from psc_idp.protocol.client_auth.client_secret_jwt import ClientSecretJWT
from psc_idp.protocol.client_auth.private_key_jwt import PrivateKeyJWT
from psc_idp.protocol.client_auth.secret_basic import authenticate_client_secret_basic
from psc_idp.protocol.dpop import binding as dpop
from psc_idp.protocol.encryption.client_key import EncryptionKeyUnavailable
from psc_idp.protocol.endpoints.introspection import IntrospectionEndpoint
from psc_idp.protocol.endpoints.par import PushedAuthorizationEndpoint
from psc_idp.protocol.endpoints.revocation import RevocationEndpoint
from psc_idp.protocol.grants.authorization_code import AuthorizationCodeGrant
from psc_idp.protocol.grants.client_credentials import ClientCredentialsGrant
from psc_idp.protocol.grants.refresh_token import RefreshTokenGrant
from psc_idp.protocol.keycloak_errors import UnsupportedGrantType, reword
from psc_idp.protocol.lookups import enabled_client
from psc_idp.protocol.models import Client
from psc_idp.protocol.responses import authorization_redirect, unencryptable_page
from psc_idp.protocol.scopes import SUPPORTED_SCOPES, check_known, unknown
from psc_idp.protocol.staged import discard_staged, run_staged
from psc_idp.protocol.tokens import generate_token

#: Statuses where Authlib's differ from Keycloak's and the RFCs': a failed client authentication
#: is 401 whatever the method (Authlib: 400 for some methods; RFC 6749 §5.2 allows 401), and
#: ``unsupported_token_type`` is an ordinary 400 error (RFC 7009 §2.2.1; Authlib: 401).
FIXED_STATUS: dict[type[OAuth2Error], int] = {
    InvalidClientError: 401,
    UnsupportedTokenTypeError: 400,
}


class AuthorizationServer(FlaskAuthorizationServer):
    def query_client(self, client_id: str) -> Client | None:
        # A NUL (form, Basic, assertion claims) was refused by http.guard; ids are <= 255.
        if not isinstance(client_id, str) or len(client_id) > 255:
            return None
        client = enabled_client(client_id)
        if client is not None:
            note_client(client.client_id)  # the access log's and the audit's client
        return client

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> Client:
        """Authlib's, then the endpoint's rate limit for the client it authenticated (so that
        nobody spends another client's quota by naming it), then, at the token endpoint, the
        proof a DPoP client must send (before any grant spends its code or refresh token)."""
        client = super().authenticate_client(request, methods, endpoint)
        # With the environ: not counted twice if the request was counted before Flask.
        environ = flask_request.environ if has_request_context() else None
        rate_limits.enforce(endpoint, client.client_id, environ)
        if endpoint == "token":
            dpop.require_proof_of(client)
        return client

    def get_token_grant(self, request: OAuth2Request):
        try:
            return super().get_token_grant(request)
        except UnsupportedGrantTypeError as error:
            raise UnsupportedGrantType() from error

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown scopes are refused by name; whether the client may have the known ones is
        its ``get_allowed_scope``'s question."""
        check_known(scope)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        save_issued(request.payload.grant_type or "", request.client.client_id)

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> Response:
        """Errors sent to a redirect URI carry ``iss`` and honour ``response_mode`` (JARM too)."""
        discard_staged()
        db.session.rollback()
        reword(error)
        if error.redirect_uri:
            # Found before the grant knew its client (request object, response type): the
            # redirect URI was checked against this client's.
            client = request.client or self.query_client(request.payload.client_id)
            try:
                status, body, headers = authorization_redirect(
                    error.redirect_uri, error.get_body(), request.payload.data, client
                )
            except EncryptionKeyUnavailable as unavailable:
                return unencryptable_page(unavailable)
            return self.handle_response(status, body, headers)
        for kind, status in FIXED_STATUS.items():
            if isinstance(error, kind):
                error.status_code = status
        status, body, headers = error()  # Authlib's JSON headers include no-store
        return self.handle_response(status, body, headers)


def save_issued(grant_type: str, client_id: str) -> None:
    """The grant and the generator staged their writes, the audit's row too
    (protocol/staged.py): run them, after the signatures, and commit them together."""
    run_staged()
    db.session.commit()
    count_token(grant_type, client_id)


def create_server(app: Flask) -> AuthorizationServer:
    strangers = unknown(app.extensions["psc_settings"].default_scopes)
    if strangers:
        raise ValueError(f"default_scopes: unknown scopes {strangers}; see scopes_supported")
    server = AuthorizationServer()
    server.init_app(app)
    server.register_token_generator("default", generate_token)
    server.scopes_supported = SUPPORTED_SCOPES

    server.register_client_auth_method("client_secret_basic", authenticate_client_secret_basic)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server.register_client_auth_method(ClientSecretJWT.CLIENT_AUTH_METHOD, ClientSecretJWT())
    server.register_client_auth_method(
        tls_client_auth.METHOD, tls_client_auth.authenticate_tls_client
    )

    server.register_grant(AuthorizationCodeGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(CibaGrant)

    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(BackchannelAuthenticationEndpoint)
    server.register_endpoint(PushedAuthorizationEndpoint)
    return server
