"""The request id: taken from a well-formed ``X-Request-ID`` (a proxy's), else a new one; kept in
a context variable so that every log line written while handling the request carries it."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

HEADER = "X-Request-ID"
#: What an incoming id may be: a UUID, nginx's ``$request_id`` (32 hex digits), a trace id…
#: Anything else (too long, spaces, controls, quotes) would let a caller forge log content.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str] = ContextVar("psc_request_id", default="-")
_client: ContextVar[str] = ContextVar("psc_client_id", default="")
#: The WSGI environ of a request answered before Flask (``http/prepared.py``), where there is
#: no Flask request to read the caller's address and user agent from.
_environ: ContextVar[Mapping[str, Any] | None] = ContextVar("psc_environ", default=None)


def accepted_or_new(incoming: str | None) -> str:
    if incoming and WELL_FORMED.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


def begin(request_id: str, environ: Mapping[str, Any] | None = None) -> None:
    _current.set(request_id)
    _client.set("")
    _environ.set(environ)


def end() -> None:
    _current.set("-")
    _client.set("")
    _environ.set(None)


def current_environ() -> Mapping[str, Any] | None:
    """The environ of a request answered before Flask (None in Flask's, or outside one)."""
    return _environ.get()


def current() -> str:
    return _current.get()


def note_client(client_id: str) -> None:
    """The client the request is for, once the protocol has found it (access log, audit)."""
    _client.set(client_id)


def current_client() -> str:
    return _client.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record passing the handler (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
