"""Request objects encrypted to our key (RFC 9101 §6.1, OIDC Core §6.1): the JWE is opened
here; its payload, the signed request object, is then checked as any other.

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
    try:
        header = unverified_jwe_header(token)
    except ValueError as error:
        raise DecryptionRefused("The request object is not a JWE") from error
    alg, enc = _allowed(header, client)
    keys = _our_keys(header.get("kid"))
    for key in keys:
        try:
            opened = jwe.decrypt_compact(token, key, algorithms=[alg, enc])
        except (JoseError, ValueError, TypeError):
            continue
        try:
            return opened.plaintext.decode("ascii")
        except (UnicodeDecodeError, AttributeError) as error:
            raise DecryptionRefused("The encrypted request object holds no JWS") from error
    raise DecryptionRefused("The request object could not be decrypted")


def _allowed(header: dict[str, Any], client: Client) -> tuple[str, str]:
    alg, enc = header.get("alg"), header.get("enc")
    if alg not in KEY_MANAGEMENT_ALGS or enc not in CONTENT_ENCRYPTION_ENCS:
        raise DecryptionRefused("Unsupported request object encryption algorithm")
    if "zip" in header:
        raise DecryptionRefused("Compressed request objects are not accepted")
    wanted_alg, wanted_enc = (getattr(client, name, None) for name in REQUEST_OBJECT)
    if wanted_alg and alg != wanted_alg or wanted_enc and enc != wanted_enc:
        raise DecryptionRefused("The request object is not encrypted as the client registered")
    return alg, enc


def _our_keys(kid: Any) -> list[RSAKey]:
    """The key named by ``kid``, else every usable one (a client may leave ``kid`` out)."""
    usable = current_app.extensions["psc_encryption_keys"].usable()
    if kid is not None:
        usable = [key for key in usable if key.kid == kid]
    return [RSAKey.import_key(key.private_key) for key in usable]
