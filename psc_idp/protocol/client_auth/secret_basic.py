"""``client_secret_basic`` (RFC 6749 §2.3.1), replacing Authlib's: the header is decoded
defensively (Authlib's decoder raised on credentials that are not ASCII or not UTF-8: a 500), and
the id and secret are form-urlencoded before Base64, so ``+`` means a space (Authlib kept it)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError

from psc_idp.protocol.keycloak_errors import INVALID_CLIENT
from psc_idp.protocol.models import Client


def basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """``(client_id, secret)`` from an ``Authorization: Basic`` header; None if there is none or
    it cannot be read."""
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:  # not Base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client_secret_basic(
    query_client: Callable[[str], Client | None], request: OAuth2Request
) -> Client | None:
    credentials = basic_credentials(request.headers)
    if credentials is None or not all(credentials):
        return None
    client_id, secret = credentials
    client = query_client(client_id)
    if client is None:
        raise InvalidClientError(status_code=401, description=INVALID_CLIENT)
    return client if client.check_client_secret(secret) else None
