"""PINs: 4 digits, stored with a salted slow hash (scrypt), never in clear."""

from __future__ import annotations

import re

from psc_idp.scrypt_hash import scrypt_hash, scrypt_verify

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
    return scrypt_hash(check_format(pin), N, R, P)


def verify_pin(pin: str, stored: str) -> bool:
    return scrypt_verify(str(pin), stored)
