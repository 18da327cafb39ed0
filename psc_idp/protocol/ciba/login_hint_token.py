"""Who a CIBA request is for, from a ``login_hint_token`` (CIBA Core §7.1 leaves its format to
the OP; Keycloak has none).

psc-idp's format: a JWT signed by the requesting client, as its request objects are (its keys,
or the secret of a ``client_secret_jwt`` client), with ``iss`` the client, ``aud`` our issuer,
``exp``, and ``sub_id``, a subject identifier (RFC 9493) naming the professional:

- ``{"format": "opaque", "id": "<national id>"}`` (the ``SubjectNameID``), or
- ``{"format": "iss_sub", "iss": "<our issuer>", "sub": "<the public sub>"}`` (a pairwise
  ``sub`` cannot be turned back into a professional: pairwise clients use ``opaque``).

An expired token is ``expired_login_hint_token`` (§13); any other fault ``invalid_request``;
a subject that is not one of our professionals ``ValueError`` (the caller's
``unknown_user_id``)."""

from __future__ import annotations

from typing import Any

import jwt
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error

from psc_idp.config import current_settings
from psc_idp.jose_header import unverified_header
from psc_idp.protocol.models import Client
from psc_idp.protocol.request_object import (
    LEEWAY,
    SIGNING_ALGS,
    InvalidRequestObjectError,
    client_key,
)

REQUIRED_CLAIMS = ("iss", "aud", "exp", "sub_id")
NAME = "login_hint_token"


class ExpiredLoginHintTokenError(OAuth2Error):
    error = "expired_login_hint_token"


def national_id_from_login_hint_token(token: str, client: Client) -> str:
    """The national id the token of ``client`` names (not yet checked to be one)."""
    try:
        header = unverified_header(token)
    except ValueError as error:
        raise InvalidRequestError(f"The {NAME} is not a JWS") from error
    alg = header.get("alg")
    if alg not in SIGNING_ALGS:
        raise InvalidRequestError(f"Unsupported {NAME} algorithm")
    try:
        key = client_key(client, header, alg, NAME)
    except InvalidRequestObjectError as error:
        raise InvalidRequestError(error.description) from error
    settings = current_settings()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=settings.issuer,
            issuer=client.client_id,
            leeway=LEEWAY,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError as error:
        raise ExpiredLoginHintTokenError(f"The {NAME} has expired") from error
    except jwt.MissingRequiredClaimError as error:
        raise InvalidRequestError(f"Missing claim in the {NAME}: '{error.claim}'") from error
    except jwt.PyJWTError as error:
        raise InvalidRequestError(f"Invalid {NAME}") from error
    return _named(claims["sub_id"], settings.issuer, settings.sub_prefix)


def _named(sub_id: Any, issuer: str, prefix: str) -> str:
    fields = sub_id if isinstance(sub_id, dict) else {}
    match fields.get("format"):
        case "opaque" if isinstance(fields.get("id"), str):
            return fields["id"]
        case "iss_sub" if isinstance(fields.get("iss"), str) and isinstance(fields.get("sub"), str):
            if fields["iss"] != issuer or not fields["sub"].startswith(prefix):
                raise ValueError("not a subject of this issuer")
            return fields["sub"][len(prefix) :]
    raise InvalidRequestError(f"The sub_id of the {NAME} is an opaque or iss_sub identifier")
