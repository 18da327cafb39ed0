"""``client_secret_jwt`` (OIDC Core §9, RFC 7523 §2.2): the client signs an assertion with an
HMAC keyed by its secret (HS256, HS384 or HS512; nothing else, ``none`` least of all).

The server must know the key, so such a client's secret is kept sealed at rest
(``AppSecret.seal``, bound to the client id) instead of hashed: ``client_secret`` below.
A bad signature is a wrong secret, and counts as one against the client's lockout
(``psc_idp.lockout``, kind ``client``): a locked client is answered as a bad signature, whatever
it signs. The other checks (audience, dates, single-use ``jti``) are the assertion's
(``assertion.py``)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from psc_idp import lockout
from psc_idp.config import current_settings
from psc_idp.protocol.client_auth.assertion import (
    BAD_SIGNATURE,
    BadSignature,
    ClientAssertion,
    refuse,
)
from psc_idp.protocol.models import Client

METHOD = "client_secret_jwt"
ALGORITHMS = ("HS256", "HS384", "HS512")
#: RFC 7518 §3.2: an HMAC key at least as long as the hash; registration asks for 32 octets.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
#: What the lockout records as the failing credential (``psc-idp unlock --list``).
SOURCE = "secret_jwt"
_UNREAD = object()


def seal_purpose(client_id: str) -> str:
    # Bound to the client: a sealed secret copied onto another client does not open.
    return f"client-secret-jwt\0{client_id}"


def seal_secret(client_id: str, secret: str) -> str:
    return current_app.extensions["psc_app_secret"].seal(secret, seal_purpose(client_id))


def client_secret(client: Client) -> str:
    """The client's secret, unsealed; ``ValueError`` if it has none that opens here."""
    sealed = getattr(client, "secret_sealed", None)
    if not sealed:
        raise ValueError("no sealed secret")
    return current_app.extensions["psc_app_secret"].unseal(sealed, seal_purpose(client.client_id))


class ClientSecretJWT(ClientAssertion):
    CLIENT_AUTH_METHOD = METHOD
    ALGORITHMS = frozenset(ALGORITHMS)

    def verify_for(self, client: Client, assertion: str, header: dict[str, Any]) -> dict:
        try:
            key = client_secret(client).encode()
        except ValueError as error:
            raise refuse("Client secret is not usable") from error
        if len(key) < MIN_KEY_BYTES[header["alg"]]:
            raise refuse(f"The client secret is too short for {header['alg']}")
        counting = current_settings().lockout_enabled
        known = _lockout_state(client) if counting else None
        if known is not None and known.locked():
            lockout.fail(lockout.CLIENT, client.client_id, SOURCE)
            raise BadSignature(description=BAD_SIGNATURE)
        try:
            claims = self.verify(assertion, key, header["alg"], client.client_id)
        except BadSignature:
            if counting:
                lockout.fail(lockout.CLIENT, client.client_id, SOURCE)
            raise
        if counting:
            lockout.succeed(lockout.CLIENT, client.client_id, known)
        return claims


def _lockout_state(client: Client) -> lockout.State | None:
    known = getattr(client, "lockout_state", _UNREAD)
    if known is _UNREAD:  # a client not read by the hot path's lookup
        return lockout.state(lockout.CLIENT, client.client_id)
    return known
