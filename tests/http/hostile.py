"""Hostile values shared by the guard's tests and the sweep."""

from __future__ import annotations

import base64
import json


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


#: A JWS whose header is 3 000 nested arrays: recursing JSON parsers overflow on it.
DEEP_JWS = f"{b64url(b'[' * 3000)}.{b64url(b'{}')}.AA"
#: The same depth in the payload, under a plausible header.
_HEADER = b64url(json.dumps({"alg": "RS256", "kid": "k"}).encode())
DEEP_PAYLOAD_JWS = f"{_HEADER}.{b64url(b'[' * 3000)}.AA"
#: A JSON body nested 3 000 levels deep.
DEEP_JSON = "[" * 3000 + "]" * 3000


def unsigned_jws(header: dict, claims: dict) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.AA"
