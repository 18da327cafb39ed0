"""Server nonces (RFC 9449 §8), without state: an HMAC of a time window keyed by the app secret.

Every instance computes the same value for the same window, so a nonce given by one instance is
accepted by the others; a nonce is accepted during its window and the next one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from flask import current_app

from psc_idp.config import current_settings


def _for_window(window: int) -> str:
    key = current_app.extensions["psc_app_secret"].derive("dpop-nonce")
    mac = hmac.new(key, str(window).encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _window(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // max(current_settings().dpop_nonce_window, 1))


def nonce_required() -> bool:
    return current_settings().dpop_nonce


def current_nonce() -> str:
    return _for_window(_window())


def nonce_is_fresh(value: object) -> bool:
    """The nonce of the current window or of the one before."""
    if not isinstance(value, str):
        return False
    window = _window()
    return any(hmac.compare_digest(value, _for_window(w)) for w in (window, window - 1))
