"""Keys for the tests' own JOSE clients (joserfc), as every library must write them."""

from __future__ import annotations

import base64
from typing import Any

from joserfc.jwk import ECKey


def full_length_key(parameters: dict[str, Any] | None = None) -> ECKey:
    """A P-256 key whose public JWK has 32-byte coordinates, as RFC 7518 §6.2.1.2 requires: the
    lowest joserfc the project allows drops their leading zero bytes (one key in 128), and the
    server rightly refuses such a jwk."""
    while True:
        key = ECKey.generate_key("P-256", parameters=parameters)
        jwk = key.as_dict(private=False)
        if all(len(base64.urlsafe_b64decode(jwk[c] + "==")) == 32 for c in ("x", "y")):
            return key
