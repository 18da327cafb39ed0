"""PINs: 4 digits, stored with a salted slow hash (scrypt), never in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

PIN_PATTERN = re.compile(r"^\d{4}$")
#: scrypt cost: ~50 ms per check, slow enough that a stolen database does not give PINs away
#: in seconds, while the 3-attempt lock protects the online path.
N, R, P = 2**14, 8, 1


class InvalidPin(ValueError):
    pass


def check_format(pin: str) -> str:
    if not isinstance(pin, str) or not PIN_PATTERN.match(pin):
        raise InvalidPin("Le code PIN doit comporter exactement 4 chiffres.")
    return pin


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(check_format(pin).encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${N}${R}${P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            str(pin).encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
