"""One request-wide guard against hostile input, before any view runs.

Refused with 400 (``invalid_request`` JSON or the French error page, see ``errors``):

- a NUL anywhere (path, query, form, JSON strings and keys, identifying headers, the client id
  inside ``Basic``, the claims of a JWS read before its signature): no value has a use for it
  and PostgreSQL refuses it in a query, which would otherwise be a 500 in every view that looks
  a value up; other C0 controls in the path and identifying headers;
- a JSON body nested deeper than ``bounded_json.MAX_DEPTH`` (through the app's JSON provider,
  so ``request.get_json`` is bounded everywhere);
- a value shaped like a compact JWS whose header or payload nests too deeply: JOSE libraries
  recurse while decoding it. ``jose_header.check_compact`` bounds the tokens again where they
  are parsed; this catches the call sites that hand a token straight to a library.

Sizes are bounded by ``MAX_CONTENT_LENGTH`` / ``MAX_FORM_MEMORY_SIZE`` (413, then the
connection is closed)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from psc_idp import bounded_json
from psc_idp.jose_header import b64url_decode

#: Headers whose value identifies something (a token, a device, a proof) and is looked up.
IDENTIFYING_HEADERS = ("Authorization", "DPoP", "ECPS-Device", "Client-Cert", "X-SSL-Client-Cert")

_IDENTIFYING_KEYS = tuple(
    (name, "HTTP_" + name.upper().replace("-", "_")) for name in IDENTIFYING_HEADERS
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COMPACT = re.compile(r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")


class RefusedInput(BadRequest):
    """Hostile or malformed input, refused before any view."""


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested too deeply (``ValueError``: a 400 from
    ``request.get_json``). Keys keep their order (PSC's claim order) and UTF-8 stays readable."""

    sort_keys = False
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return bounded_json.loads(s, **kwargs)


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(check_request)
    app.after_request(close_after_413)


def close_after_413(response: Response) -> Response:
    """A 413 leaves the body unread: the connection cannot carry another request, so say so
    (whichever handler, protocol JSON or page, answered)."""
    if response.status_code == 413:
        response.headers["Connection"] = "close"
    return response


def check_request() -> None:
    if _CONTROL.search(request.path):
        raise RefusedInput("Control character in the path.")
    check_headers(request.environ)  # a dict: cheaper than five scans of ``request.headers``
    check_pairs(request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        check_pairs(request.form.items(multi=True))  # 413 beyond MAX_FORM_MEMORY_SIZE
    if request.is_json and request.get_data(cache=True):
        # Bounded depth. A body that does not parse is left to the view (cached as None), which
        # answers in its own words, as it did before this guard.
        for value in _strings(request.get_json(silent=True)):
            _check_value(value)


def check_headers(environ: Mapping[str, Any]) -> None:
    """The identifying headers and the client id inside ``Basic``, from a WSGI environ (also
    before Flask, ``protocol/direct.py``)."""
    for name, key in _IDENTIFYING_KEYS:
        value = environ.get(key)
        if value is not None:
            if _CONTROL.search(value.replace("\t", " ")):
                raise RefusedInput(f"Control character in the {name} header.")
            _check_value(value.rpartition(" ")[2])
    _check_basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))


def check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        _check_value(key)
        _check_value(value)


def _check_value(value: str) -> None:
    if "\x00" in value:
        raise RefusedInput("NUL character in a parameter.")
    if len(value) < 10 or not _COMPACT.fullmatch(value):
        return
    # Only JSON that would recurse too deeply is refused here: anything else that merely
    # looks like a JWS (a host name, a malformed token) is left to the view that reads it.
    for segment in value.split(".")[:2]:
        try:
            decoded = b64url_decode(segment)
        except ValueError:
            return
        if bounded_json.too_deep(decoded):
            raise RefusedInput("JWS nested too deeply.")
        # Claims are read before the signature is checked (a client assertion's iss finds
        # its client), so a NUL in them would reach a query too.
        if decoded.lstrip()[:1] == b"{" and (b"\\u0000" in decoded or b"\x00" in decoded):
            raise RefusedInput("NUL character in a JWS.")


def _check_basic_credentials(authorization: str) -> None:
    """RFC 6749 §2.3.1: the client id inside ``Basic`` (form-encoded, then base64) is looked up
    like a form value. Anything that does not decode is left to client authentication."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return
    if "\x00" in unquote(decoded):
        raise RefusedInput("NUL character in the client credentials.")


def _strings(node: Any) -> Iterator[str]:
    """Every key and string of a parsed JSON document (its depth is already bounded)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
