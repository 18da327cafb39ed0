"""The Flask application class: Flask's, minus two costs it pays again on every request.

- ``ensure_sync`` asks ``inspect`` whether each hook and view is a coroutine function, nine
  times a request here; the answer never changes for a function, so it is remembered.
- The session cookie's signing serializer is built anew for each request (itsdangerous objects,
  key derivation set-up); it depends only on the keys, so it is built once per key set.

Together about a tenth of a request that does little else (health, JWKS behind a cache miss)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # only the current key set is kept
        return serializer


class Application(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_interface = CookieSessions()  # one per application: its own keys
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        known = self._synchronous.get(func)
        if known is None:
            known = self._synchronous[func] = super().ensure_sync(func)
        return known
