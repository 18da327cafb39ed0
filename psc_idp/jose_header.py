"""Reading a JWS's protected header before knowing which key verifies it."""

from __future__ import annotations

import base64
import json
from typing import Any


def unverified_header(value: str) -> dict[str, Any]:
    """The JOSE header alone. PyJWT's own helper decodes every segment of the token; on the
    UserInfo and introspection hot paths that doubles the cost of the check that follows.
    Raises ``ValueError`` for anything that is not a base64url JSON object."""
    segment = value.split(".", 1)[0]
    header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(header, dict):
        raise ValueError("JOSE header is not an object")
    return header
