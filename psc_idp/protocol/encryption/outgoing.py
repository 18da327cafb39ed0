"""ID tokens and UserInfo encrypted to the client (OIDC Core §10.2): a signed JWT is nested
(``cty: JWT``, signed then encrypted, §16.14); unsigned UserInfo is the JSON itself."""

from __future__ import annotations

from typing import Any

from joserfc import jwe

from psc_idp.protocol.encryption.algorithms import Choice
from psc_idp.protocol.encryption.client_key import encryption_key
from psc_idp.protocol.models import Client


def encrypt_to_client(client: Client, choice: Choice, plaintext: bytes, nested: bool) -> str:
    """The compact JWE of ``plaintext`` for ``client``. Raises ``EncryptionKeyUnavailable``."""
    key = encryption_key(client, choice.alg)
    header: dict[str, Any] = {"alg": choice.alg, "enc": choice.enc}
    if key.get("kid"):
        header["kid"] = key.get("kid")
    if nested:
        header["cty"] = "JWT"
    return jwe.encrypt_compact(header, plaintext, key, algorithms=[choice.alg, choice.enc])
