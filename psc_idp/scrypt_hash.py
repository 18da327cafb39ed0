"""Salted scrypt hashes of what a person types (e-CPS PINs, administrators' passwords), in one
self-describing string: ``scrypt$N$r$p$salt$digest``, so that a stored hash keeps verifying
after the cost is raised."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: Enough for the costs used here (128 · r · N bytes: 32 MiB at N = 2**15, r = 8).
MAX_MEMORY = 2**26


def scrypt_hash(value: str, n: int, r: int = 8, p: int = 1) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(value.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${n}${r}${p}${encode(salt).decode()}${encode(digest).decode()}"


def scrypt_verify(value: str, stored: str) -> bool:
    """Whether ``value`` is the one hashed in ``stored``; a malformed hash verifies nothing."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            value.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=MAX_MEMORY,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
