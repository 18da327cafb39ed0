"""Reading a compact JWS (or JWE) before knowing which key verifies (or opens) it, and bounding
it first.

Every token that arrives from outside (bearer tokens, ``id_token_hint``, device and card JWS,
client assertions) goes through ``check_compact`` before any library decodes it: its size, its
shape and the nesting of its JSON segments are checked segment by segment, so that a header of a
few thousand ``[`` is a ``ValueError`` and not a ``RecursionError`` deep in a JOSE library."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from psc_idp import bounded_json

#: Larger than any token this server signs or accepts (a client assertion with an ``x5c``
#: chain stays under 8 kB).
MAX_COMPACT_BYTES = 16 * 1024

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(segment: str) -> bytes:
    """A base64url segment without padding; ``ValueError`` if it is not one."""
    if not _SEGMENT.fullmatch(segment):
        raise ValueError("not a base64url segment")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not a base64url segment") from error


def check_compact(value: Any) -> None:
    """A compact JWS (three segments) of bounded size whose header and payload, where they are
    JSON, nest no deeper than ``bounded_json.MAX_DEPTH``. Raises ``ValueError``."""
    if not isinstance(value, str) or len(value) > MAX_COMPACT_BYTES:
        raise ValueError("not a compact JWS of acceptable size")
    segments = value.split(".")
    if len(segments) != 3:
        raise ValueError("a compact JWS has three segments")
    for segment in segments[:2]:
        decoded = b64url_decode(segment)
        if bounded_json.too_deep(decoded):
            raise ValueError("JWS segment nested too deeply")
    if not _SEGMENT.fullmatch(segments[2]):  # the signature is decoded by the verifier
        raise ValueError("not a base64url segment")


def unverified_header(value: str) -> dict[str, Any]:
    """The JOSE header alone, after ``check_compact``. PyJWT's own helper decodes every segment of
    the token; on the UserInfo and introspection hot paths that doubles the cost of the check
    that follows. Raises ``ValueError`` for anything that is not a base64url JSON object."""
    check_compact(value)
    header = json.loads(b64url_decode(value.split(".", 1)[0]))  # JSONDecodeError: ValueError
    if not isinstance(header, dict):
        raise ValueError("JOSE header is not an object")
    return header


def is_compact_jwe(value: Any) -> bool:
    """Five segments: the shape of a compact JWE (RFC 7516 §7.1), a JWS has three."""
    return isinstance(value, str) and value.count(".") == 4


def unverified_jwe_header(value: Any) -> dict[str, Any]:
    """The protected header of a compact JWE of bounded size, its JSON bounded in nesting and
    every segment base64url, before any library reads it. Raises ``ValueError``."""
    if not is_compact_jwe(value) or len(value) > MAX_COMPACT_BYTES:
        raise ValueError("not a compact JWE of acceptable size")
    segments = value.split(".")
    decoded = b64url_decode(segments[0])
    if bounded_json.too_deep(decoded):
        raise ValueError("JWE header nested too deeply")
    for segment in segments[1:]:
        if not _SEGMENT.fullmatch(segment):
            raise ValueError("not a base64url segment")
    header = json.loads(decoded)  # JSONDecodeError: ValueError
    if not isinstance(header, dict):
        raise ValueError("JOSE header is not an object")
    return header
