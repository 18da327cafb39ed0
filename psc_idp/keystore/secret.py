"""The application secret: keys the hash of client secrets and tokens, and signs cookies."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class AppSecret:
    """A 256-bit secret read from ``keys/app-secret``, created there on first start."""

    def __init__(self, keys_dir: str | Path):
        path = Path(keys_dir) / "app-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
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


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
