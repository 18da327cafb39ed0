"""The application secret: keys the hash of client secrets and tokens, and signs cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from psc_idp.keystore.permissions import private_folder

#: Marks a value sealed by ``AppSecret.seal`` (version 1: AES-256-GCM, 96-bit random nonce).
SEALED_PREFIX = "s1."


class AppSecret:
    """A 256-bit secret read from ``keys/app-secret``, created there on first start."""

    def __init__(self, keys_dir: str | Path):
        path = Path(keys_dir) / "app-secret"
        if not path.exists():
            private_folder(path.parent)
            _write_private(path, secrets.token_hex(32))
        self._key = bytes.fromhex(path.read_text().strip())

    def keyed_hash(self, value: str, purpose: str = "secret") -> str:
        """HMAC-SHA256, fast on purpose: it only protects high-entropy values
        (client secrets, codes, tokens). PINs get a slow hash elsewhere."""
        mac = hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256)
        return mac.hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A 512-bit key for ``purpose`` (long enough for HS512)."""
        return hmac.new(self._key, f"derive\0{purpose}".encode(), hashlib.sha512).digest()

    def seal(self, value: str, purpose: str) -> str:
        """Encrypt a secret that must be read back (a code shown to a developer, a token sent
        back to a client), where a keyed hash would not do. Bound to ``purpose``: a value
        sealed for one use does not open for another."""
        nonce = os.urandom(12)
        sealed = nonce + self._aead(purpose).encrypt(nonce, value.encode(), purpose.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def unseal(self, value: str, purpose: str) -> str:
        """The sealed text; ``ValueError`` if it was altered, sealed for another purpose or
        under another app secret."""
        if not value.startswith(SEALED_PREFIX):
            raise ValueError("not a sealed value")
        data = value[len(SEALED_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
            plain = self._aead(purpose).decrypt(raw[:12], raw[12:], purpose.encode())
        except (InvalidTag, ValueError) as error:
            raise ValueError("sealed value cannot be opened") from error
        return plain.decode()

    def _aead(self, purpose: str) -> AESGCM:
        return AESGCM(self.derive(f"seal\0{purpose}")[:32])


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
