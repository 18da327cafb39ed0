"""The client's public encryption key, from its ``jwks`` or ``jwks_uri`` (OIDC Core §10.2).

A key fits when it is RSA, of at least 2048 bits, meant for encryption (``use: enc``, or no
``use``; ``key_ops`` allowing ``encrypt``/``wrapKey`` if present) and names the algorithm or
none. The first fitting key is used and its ``kid`` goes in the JWE header, so the client knows
which private key opens it."""

from __future__ import annotations

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from psc_idp.protocol.client_jwks import ClientKeysUnavailable, cached_jwks
from psc_idp.protocol.models import Client

MIN_RSA_BITS = 2048
_WRAPPING_OPS = {"encrypt", "wrapKey"}


class EncryptionKeyUnavailable(Exception):
    """No key of the client can encrypt with the registered algorithm."""


def encryption_key(client: Client, alg: str) -> RSAKey:
    """The client's key for ``alg``; a cached ``jwks_uri`` document without one is fetched
    again once (the client may have just published it)."""
    try:
        found = _fitting(cached_jwks(client), alg)
        if found is None and not client.jwks:
            found = _fitting(cached_jwks(client, fresh=True), alg)
    except ClientKeysUnavailable as error:
        raise EncryptionKeyUnavailable(str(error)) from error
    if found is None:
        raise EncryptionKeyUnavailable(f"Client has no RSA encryption key for {alg}")
    return found


def _fitting(document: dict[str, Any], alg: str) -> RSAKey | None:
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ClientKeysUnavailable("Client keys are not a JWK set")
    for entry in entries:
        if not isinstance(entry, dict) or not _meant_for(entry, alg):
            continue
        try:
            key = RSAKey.import_key({k: v for k, v in entry.items() if k not in _PRIVATE})
        except (JoseError, ValueError, TypeError):
            continue
        if key.raw_value.key_size >= MIN_RSA_BITS:
            return key
    return None


#: Private members are never used (a client that published them made a mistake, not a key).
_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


def _meant_for(entry: dict[str, Any], alg: str) -> bool:
    if entry.get("kty") != "RSA" or entry.get("use", "enc") != "enc":
        return False
    if entry.get("alg", alg) != alg:
        return False
    ops = entry.get("key_ops")
    return ops is None or (isinstance(ops, list) and bool(_WRAPPING_OPS & set(ops)))
