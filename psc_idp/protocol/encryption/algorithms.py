"""The JWE algorithms supported, and what a client registered (OIDC Registration §2)."""

from __future__ import annotations

from typing import NamedTuple

from psc_idp.protocol.models import Client

#: Key management: RSA-OAEP and RSA-OAEP-256 (RSA1_5 is left out: RFC 8725 §3.2).
KEY_MANAGEMENT_ALGS = ("RSA-OAEP", "RSA-OAEP-256")
#: Content encryption, in Keycloak's order.
CONTENT_ENCRYPTION_ENCS = (
    "A256GCM",
    "A192GCM",
    "A128GCM",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
)
#: OIDC Registration §2: the ``enc`` when only the ``alg`` is registered.
DEFAULT_ENC = "A128CBC-HS256"

#: Each encrypted thing and its pair of client metadata (alg, enc).
ID_TOKEN = ("id_token_encrypted_response_alg", "id_token_encrypted_response_enc")
USERINFO = ("userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc")
REQUEST_OBJECT = ("request_object_encryption_alg", "request_object_encryption_enc")
#: JARM §3: the ``response`` JWT of the authorization response.
AUTHORIZATION = ("authorization_encrypted_response_alg", "authorization_encrypted_response_enc")
FIELD_PAIRS = (ID_TOKEN, USERINFO, REQUEST_OBJECT, AUTHORIZATION)
FIELDS = tuple(name for pair in FIELD_PAIRS for name in pair)
#: What the client must then publish an encryption key for (``request_object_*`` uses ours).
TO_CLIENT = (ID_TOKEN, USERINFO, AUTHORIZATION)


class Choice(NamedTuple):
    alg: str
    enc: str


def registered(client: Client, pair: tuple[str, str]) -> Choice | None:
    """The client's (alg, enc) for ``pair``, ``enc`` defaulted; None if it registered none."""
    alg = getattr(client, pair[0], None)
    if not alg:
        return None
    return Choice(alg, getattr(client, pair[1], None) or DEFAULT_ENC)


def problems(data: dict, pair: tuple[str, str]) -> list[str]:
    """What is wrong with the pair in a client description (``[]``: nothing)."""
    alg_name, enc_name = pair
    alg, enc = data.get(alg_name), data.get(enc_name)
    found = []
    if alg is not None and alg not in KEY_MANAGEMENT_ALGS:
        found.append(f"{alg_name} must be one of {', '.join(KEY_MANAGEMENT_ALGS)}")
    if enc is not None and enc not in CONTENT_ENCRYPTION_ENCS:
        found.append(f"{enc_name} must be one of {', '.join(CONTENT_ENCRYPTION_ENCS)}")
    if enc is not None and alg is None:
        found.append(f"{enc_name} needs {alg_name}")
    return found
