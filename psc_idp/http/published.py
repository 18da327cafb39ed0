"""Documents published unchanged to every caller (discovery, JWKS): serialised once, sent as
bytes with an ETag, and answered ``304 Not Modified`` to a client that already has them.

``Cache-Control: no-cache`` as Keycloak sends on its key set: a cache may keep the document but
must revalidate it (a key may rotate at any time), which the ETag makes a cheap 304."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import Request, Response


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str

    @classmethod
    def of(cls, value: Any) -> Document:
        # The app's JSON style: compact, keys in their order, UTF-8 readable.
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(body, hashlib.sha256(body).hexdigest()[:32])


def answer(document: Document, request: Request) -> Response:
    quoted = f'"{document.etag}"'
    if matches(request.headers.get("If-None-Match", ""), quoted):
        response = Response(status=304)
    else:
        response = Response(document.body, mimetype="application/json")
    response.headers["ETag"] = quoted
    response.headers["Cache-Control"] = "no-cache"
    return response


def matches(header: str, quoted: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or a list of entity tags, compared weakly."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or quoted in tags
