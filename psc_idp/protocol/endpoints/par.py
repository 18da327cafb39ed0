"""Pushed authorization requests (RFC 9126), as Keycloak: the client authenticates as at the
token endpoint and posts its authorization request; it is checked exactly as the authorization
endpoint checks one (``authorize.validate_request``), but every error is answered here in JSON,
never at the redirect URI (§2.3). A valid request is stored and named by a ``request_uri``
(§2.2), which the authorization endpoint accepts once.

A request object (``request``, RFC 9126 §3) is verified here and its parameters replace the
body's; the stored request is the resolved one. A client registered with
``require_signed_request_object`` must push one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.endpoint import Endpoint, EndpointRequest
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.requests import OAuth2Payload

from psc_idp.protocol.authorize import StoredRequest, validate_request
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.dpop.binding import bind_pushed_request
from psc_idp.protocol.pushed_requests import store_pushed_request
from psc_idp.protocol.request_object import resolve

#: Body parameters that authenticate the client, not part of the authorization request.
CLIENT_AUTH_PARAMS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


class PushedPayload(OAuth2Payload):
    """The authorization parameters of the body; repeated ones kept, for the duplicate check."""

    def __init__(self, form: Any, client_id: str):
        names = [name for name in form if name not in CLIENT_AUTH_PARAMS]
        self._data = {name: form[name] for name in names}
        self._datalist = {name: form.getlist(name) for name in names}
        # RFC 9126 §2.1: client_id is part of the request; implied by the authentication.
        if "client_id" not in self._data:
            self._data["client_id"] = client_id
            self._datalist["client_id"] = [client_id]

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> Mapping[str, list[str]]:
        return self._datalist


@dataclass
class PushedRequest(EndpointRequest):
    params: dict[str, str] = field(default_factory=dict)


class PushedAuthorizationEndpoint(Endpoint):
    ENDPOINT_NAME = "pushed_authorization"
    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_request(self, request: OAuth2Request) -> PushedRequest:
        client = self.server.authenticate_client(
            request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME
        )
        request.client = client
        payload = PushedPayload(request.form, client.client_id)
        if "request_uri" in payload.data:
            raise InvalidRequestError("It is not allowed to include request_uri to PAR")
        if payload.client_id != client.client_id:
            raise InvalidRequestError("Invalid parameter: client_id")
        try:
            authorization = self._authorization(payload, client)
            grant, _ = validate_request(authorization)
        except OAuth2Error as error:
            error.redirect_uri = None  # answered to the client, never at the redirect URI
            raise
        params = dict(grant.request.payload.data)
        bind_pushed_request(params)
        return PushedRequest(request, client, params)

    @staticmethod
    def _authorization(payload: PushedPayload, client: Any) -> OAuth2Request:
        if "request" in payload.data:
            return StoredRequest(resolve(payload.data, payload.datalist, client))
        if client.require_signed_request_object:
            raise InvalidRequestError("Missing parameter: request")
        authorization = StoredRequest(payload.data)
        authorization.payload = payload
        return authorization

    def create_response(self, validated: PushedRequest) -> tuple[int, dict[str, Any], list]:
        request_uri, expires_in = store_pushed_request(validated.client.client_id, validated.params)
        return 201, {"request_uri": request_uri, "expires_in": expires_in}, default_json_headers
