"""Token exchange (RFC 8693) at a protected API's authorization server, the CI-SIS way: the
software, authenticated by its ORG AUTH_CLI certificate (``tls_client_auth``), exchanges a PSC
access token (and its actor token) for a short token of the API, bound to that certificate.

The checks, in order: the client (its certificate, the grant type, the API among its audiences,
the API's allowed clients and structures), the parameters, the subject token, the actor token,
the scope."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from cryptography.x509.oid import NameOID
from flask import request as flask_request

from psc_idp.api_as.actor import Actor, verified_actor
from psc_idp.api_as.apis import find_api
from psc_idp.api_as.errors import InvalidTargetError
from psc_idp.api_as.issue import exchanged_token
from psc_idp.api_as.issuer import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, issuer_of
from psc_idp.api_as.models import ProtectedApi
from psc_idp.api_as.subject import check_subject_issuer, verified_subject
from psc_idp.config import current_settings
from psc_idp.pki.names import first_value
from psc_idp.protocol.client_auth import tls_client_auth


class TokenExchangeGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = TOKEN_EXCHANGE
    TOKEN_ENDPOINT_AUTH_METHODS = [tls_client_auth.METHOD]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        self.request.client = client
        api = self._api()
        self._check_client(client, api)
        form = self.request.form
        for name in ("subject_token", "subject_token_type"):
            if not form.get(name):
                raise InvalidRequestError(f"Missing form parameter: {name}")
        self._check_target(api, form.getlist("audience"), form.getlist("resource"))
        requested = form.get("requested_token_type")
        if requested and requested != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError(f"requested_token_type must be {ACCESS_TOKEN_TYPE}")
        check_subject_issuer(form.get("subject_issuer"))
        self.request.api = api
        self.request.scope = self._scope(api, form.get("scope"))

    def create_token_response(self):
        request = self.request
        form = request.form
        client = request.client
        subject = verified_subject(client, form["subject_token"], form["subject_token_type"])
        certificate = tls_client_auth.current_certificate()
        actor: Actor | None = None
        if form.get("actor_token"):
            actor = verified_actor(
                form["actor_token"],
                form.get("actor_token_type"),
                client.client_id,
                issuer_of(current_settings(), request.api.audience),
                certificate,
            )
        elif form.get("actor_token_type"):
            raise InvalidRequestError("actor_token_type without actor_token")
        token = exchanged_token(
            request.api,
            client,
            subject,
            actor,
            request.scope,
            tls_client_auth.thumbprint(certificate),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER

    @staticmethod
    def _api() -> ProtectedApi:
        api = find_api((flask_request.view_args or {}).get("audience", ""))
        if api is None:  # the view found it; removed by a realm import since
            raise InvalidTargetError(description="Unknown API")
        return api

    @staticmethod
    def _check_client(client, api: ProtectedApi) -> None:
        if not client.check_grant_type(TOKEN_EXCHANGE):
            raise UnauthorizedClientError(
                description="Client not allowed to exchange tokens (grant_types)"
            )
        if api.audience not in (client.audiences or []):
            raise UnauthorizedClientError(
                description=f"Client not allowed to exchange for {api.audience} (audiences)"
            )
        if api.allowed_clients and client.client_id not in api.allowed_clients:
            raise UnauthorizedClientError(
                description=f"Client not among the allowed clients of {api.audience}"
            )
        certificate = tls_client_auth.current_certificate()
        structure = first_value(certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
        if api.allowed_structures and structure not in api.allowed_structures:
            raise UnauthorizedClientError(
                description=f"Structure {structure!r} not allowed to call {api.audience}"
            )

    @staticmethod
    def _check_target(api: ProtectedApi, audiences: list[str], resources: list[str]) -> None:
        wrong = [a for a in audiences if a != api.audience]
        if wrong:
            raise InvalidTargetError(
                description=f"This server issues tokens for {api.audience} only, not {wrong[0]!r}"
            )
        issuer = issuer_of(current_settings(), api.audience)
        if any(r != issuer for r in resources):
            raise InvalidTargetError(description=f"resource must be {issuer}")

    @staticmethod
    def _scope(api: ProtectedApi, scope: str | None) -> str:
        """The business scopes asked for, all of the API's when none is named."""
        asked = (scope or "").split()
        unknown = [s for s in asked if s not in api.scopes]
        if unknown:
            raise InvalidScopeError(
                description=f"Scope {unknown[0]!r} is not one of {api.audience}'s: "
                + " ".join(api.scopes)
            )
        return " ".join(dict.fromkeys(asked)) or " ".join(api.scopes)
