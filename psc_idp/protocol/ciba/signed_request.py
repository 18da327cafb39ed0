"""Signed authentication requests (CIBA Core §7.1.1): every parameter of the backchannel
authentication request inside one ``request`` JWS, signed by the client.

Verified as a request object (``protocol.request_object``: the client's keys, ``iss`` the
client, ``aud`` our issuer, ``exp`` within ``request_object_lifespan``, ``jti`` accepted once on
every instance), with CIBA's stricter rules: an asymmetric signature only, and ``iat``, ``nbf``
and ``jti`` required besides. Outside the JWT only the client's authentication may be sent."""

from __future__ import annotations

from collections.abc import Mapping

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from psc_idp.protocol.client_auth.private_key_jwt import ASSERTION_ALGS
from psc_idp.protocol.models import Client
from psc_idp.protocol.request_object import InvalidRequestObjectError, parameters_of, verify

#: What discovery advertises (``backchannel_authentication_request_signing_alg_values_supported``):
#: §7.1.1 asks for an asymmetric signature, so no HMAC.
SIGNING_ALGS = ASSERTION_ALGS
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "jti")
#: How a client authenticates: the only parameters allowed beside ``request``.
CLIENT_AUTHENTICATION = frozenset(
    {"client_id", "client_secret", "client_assertion", "client_assertion_type"}
)


def is_signed(form: Mapping[str, str]) -> bool:
    return "request" in form


def authentication_parameters(form: MultiDict, client: Client) -> ImmutableMultiDict:
    """The request's parameters: those of the signed ``request`` of ``client``. Raises
    ``invalid_request`` (CIBA Core §13) for anything wrong with it."""
    if len(form.getlist("request")) > 1:
        raise InvalidRequestError("Duplicated parameter: request")
    if set(form) - CLIENT_AUTHENTICATION - {"request"}:
        raise InvalidRequestError(
            "Only client authentication may be sent beside a signed request (CIBA Core 7.1.1)"
        )
    try:
        claims = verify(form["request"], client, SIGNING_ALGS, REQUIRED_CLAIMS)
        params = parameters_of(claims)
    except InvalidRequestObjectError as error:
        raise InvalidRequestError(error.description) from error
    if params.get("client_id", client.client_id) != client.client_id:
        raise InvalidRequestError("The client_id of the signed request is not the client's")
    params.pop("client_id", None)
    return ImmutableMultiDict(params)
