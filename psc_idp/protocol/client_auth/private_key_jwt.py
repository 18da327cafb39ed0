"""``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2): the client signs an assertion with its key.

Keys come from the client's registered ``jwks`` or its ``jwks_uri``; only asymmetric algorithms
are accepted, each bound to its key type (so neither ``alg: none`` nor an HMAC keyed with a
public key can pass), and each ``jti`` is accepted once until the assertion expires. Verified with
PyJWT, the project's one JOSE library (docs/architecture.md, "JOSE")."""

from __future__ import annotations

from typing import Any, NamedTuple

import jwt

from psc_idp.protocol.client_auth.assertion import (
    ASSERTION_TYPE,
    ClientAssertion,
    _check_dates,
    refuse,
)
from psc_idp.protocol.client_jwks import ClientKeysUnavailable, registered_jwks
from psc_idp.protocol.models import Client

__all__ = ["ASSERTION_TYPE", "ClientKey", "PrivateKeyJWT", "_check_dates"]

#: Each accepted algorithm and the key type (and curve) it needs.
ASSERTION_ALGS: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
}


class ClientKey(NamedTuple):
    jwk: dict[str, Any]  # as registered
    key: jwt.PyJWK


_refuse = refuse


class PrivateKeyJWT(ClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"
    ALGORITHMS = frozenset(ASSERTION_ALGS)

    def verify_for(self, client: Client, assertion: str, header: dict[str, Any]) -> dict:
        key = select_key(self.resolve_client_public_key(client), header)
        return self.verify(assertion, key.key, header["alg"], client.client_id)

    def resolve_client_public_key(self, client: Client) -> list[ClientKey]:
        try:
            data = registered_jwks(client)
        except ClientKeysUnavailable as error:
            raise _refuse(str(error)) from error
        try:
            entries = data["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
            return [ClientKey(entry, jwt.PyJWK(entry)) for entry in entries if _for_signing(entry)]
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise _refuse("Client keys are not usable") from error


def _for_signing(entry: Any) -> bool:
    """Not an encryption key (``use: enc``, or an ``alg`` that signs nothing here, such as
    RSA-OAEP-256): a client publishes those beside its signing keys, PyJWT cannot read them."""
    if not isinstance(entry, dict):
        return True  # refused below, as a malformed set
    return entry.get("use", "sig") == "sig" and entry.get("alg", None) in (None, *ASSERTION_ALGS)


def select_key(keys: list[ClientKey], header: dict[str, Any]) -> jwt.PyJWK:
    """The key named by ``kid`` (the only key when there is no ``kid``), which must suit the
    header's algorithm: its type, its curve, its own ``alg`` and ``use`` if it declares them."""
    kid = header.get("kid")
    if kid is None and len(keys) == 1:
        candidates = keys
    else:
        candidates = [key for key in keys if key.jwk.get("kid") == kid]
    alg = header["alg"]
    kty, crv = ASSERTION_ALGS[alg]
    for key in candidates:
        data = key.jwk
        if data.get("kty") != kty or (crv is not None and data.get("crv") != crv):
            continue
        if data.get("alg", alg) != alg or data.get("use", "sig") != "sig":
            continue
        return key.key
    raise _refuse(f"No usable key for kid: '{kid}'")
