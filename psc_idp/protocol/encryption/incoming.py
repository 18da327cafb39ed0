"""What clients encrypt to our key: request objects (RFC 9101 §6.1, OIDC Core §6.1) and
re-encrypted ID tokens sent as ``id_token_hint`` (RP-Initiated Logout §2). The JWE is opened
here; its payload, a JWS, is then checked as any other.

The header is bounded before joserfc reads it; its ``alg`` and ``enc`` must be supported and,
when the client registered ``request_object_encryption_alg``/``_enc``, be those (Keycloak);
compression (``zip``) is refused (a small JWE must not inflate into a large object)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from psc_idp.jose_header import unverified_jwe_header
from psc_idp.protocol.encryption.algorithms import (
    CONTENT_ENCRYPTION_ENCS,
    KEY_MANAGEMENT_ALGS,
    REQUEST_OBJECT,
)
from psc_idp.protocol.models import Client


class DecryptionRefused(ValueError):
    """The JWE is malformed, of an algorithm not allowed, or opens with none of our keys."""


def decrypt_request_object(token: str, client: Client) -> str:
    """The signed request object inside ``token``, a JWE encrypted to one of our keys."""
    header = _header(token, "request object")
    wanted_alg, wanted_enc = (getattr(client, name, None) for name in REQUEST_OBJECT)
    used = (header["alg"], header["enc"])
    if used != (wanted_alg or used[0], wanted_enc or used[1]):
        raise DecryptionRefused("The request object is not encrypted as the client registered")
    return _opened(token, header, "request object")


def decrypt_id_token_hint(token: str) -> str:
    """The signed ID token inside an ``id_token_hint`` that the client re-encrypted to our key
    (RP-Initiated Logout §2: it may, rather than send the signed ID token itself)."""
    return _opened(token, _header(token, "id_token_hint"), "id_token_hint")


def _header(token: str, what: str) -> dict[str, Any]:
    try:
        header = unverified_jwe_header(token)
    except ValueError as error:
        raise DecryptionRefused(f"The {what} is not a JWE") from error
    if header.get("alg") not in KEY_MANAGEMENT_ALGS or header.get("enc") not in (
        CONTENT_ENCRYPTION_ENCS
    ):
        raise DecryptionRefused(f"Unsupported {what} encryption algorithm")
    if "zip" in header:
        raise DecryptionRefused(f"Compressed {what}s are not accepted")
    return header


def _opened(token: str, header: dict[str, Any], what: str) -> str:
    allowed = [header["alg"], header["enc"]]
    for key in _our_keys(header.get("kid")):
        try:
            opened = jwe.decrypt_compact(token, key, algorithms=allowed)
        except (JoseError, ValueError, TypeError):
            continue
        try:
            return opened.plaintext.decode("ascii")
        except (UnicodeDecodeError, AttributeError) as error:
            raise DecryptionRefused(f"The encrypted {what} holds no JWS") from error
    raise DecryptionRefused(f"The {what} could not be decrypted")


def _our_keys(kid: Any) -> list[RSAKey]:
    """The key named by ``kid``, else every usable one (a client may leave ``kid`` out)."""
    usable = current_app.extensions["psc_encryption_keys"].usable()
    if kid is not None:
        usable = [key for key in usable if key.kid == kid]
    return [RSAKey.import_key(key.private_key) for key in usable]
