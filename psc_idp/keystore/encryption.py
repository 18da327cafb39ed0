"""Our encryption keys, one file per key under ``keys/encryption/``: clients encrypt request
objects to them (RFC 9101 §6.1) with RSA-OAEP or RSA-OAEP-256.

The same life as the signing keys (``keystore/signing.py``): generated on first start, rotated
with ``psc-idp keys rotate --encryption``; a retired key stays published, and still decrypts,
until the grace has passed (a request object encrypted to it may still be on its way)."""

from __future__ import annotations

import time

from psc_idp.keystore.signing import SigningKey, SigningKeys

#: The file label of an encryption key (``RSA-<kid>.pem``): one RSA key serves every RSA
#: key-management algorithm, so its published JWK names none.
ENCRYPTION_KEY_TYPE = "RSA"


class EncryptionKeys(SigningKeys):
    FOLDER = "encryption"
    ALGS = (ENCRYPTION_KEY_TYPE,)
    USE = "enc"

    def usable(self) -> list[SigningKey]:
        """The keys that may decrypt: the active ones and the retired ones still published."""
        horizon = time.time() - self.publish_grace
        return [k for k in self._current() if k.retired_at is None or k.retired_at > horizon]
