"""Secrets on disk are their owner's alone: folders 0700, files 0600, and no start on a private
key, CA key or app secret that the group or others can read (copied with ``cp``, unpacked from
an archive, created under a loose umask)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


class ReadableSecretFile(RuntimeError):
    """A secret file is readable beyond its owner: psc-idp refuses to start."""

    def __init__(self, path: Path, mode: int):
        self.path = path
        super().__init__(
            f"{path} is readable by group or others (mode {mode:04o}); psc-idp will not start "
            f"on an exposed secret. Run: chmod 600 {path}"
        )


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by its owner only. An existing folder is
    left as it is: its files are what is checked."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    return path


def create_private_file(path: Path) -> None:
    """Create an empty ``path`` as 0600 if it does not exist, so that whatever fills it next
    (SQLite) inherits a private file instead of the umask's 0644."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except (FileExistsError, FileNotFoundError):  # a missing folder: SQLite says so itself
        return
    os.close(fd)


def secret_files(keys_dir: Path) -> list[Path]:
    """The app secret, the demo clients' secrets, the signing keys (the realm's and each
    protected API's authorization server's), the encryption keys and the test PKI's private
    keys (CAs, TLS server)."""
    candidates: list[Path] = [keys_dir / "app-secret", keys_dir / "demo-client-secrets.json"]
    candidates += sorted((keys_dir / "signing").glob("*.pem"))
    candidates += sorted((keys_dir / "encryption").glob("*.pem"))
    candidates += sorted(keys_dir.glob("api-as/*/signing/*.pem"))
    candidates += sorted((keys_dir / "pki").glob("*.key.pem"))
    return [path for path in candidates if path.is_file()]


def refuse_readable(paths: Iterable[Path]) -> None:
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ReadableSecretFile(path, mode)


def own_private_key(pem: bytes) -> PrivateKeyTypes:
    """A private key psc-idp generated and wrote itself, read back from a file its account alone
    may read (a looser one is refused at start). OpenSSL's consistency check of an RSA key,
    over 100 ms a key on these cores and made at every start, worker and reload, is skipped for
    it: the check guards against keys from elsewhere, which are still read with it (a card's key
    given to ``psc-idp card``, a virtual device's)."""
    return serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True)
