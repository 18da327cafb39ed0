"""CSRF tokens of the browser forms: bound to what the browser already holds (its login
cookie, its SSO session, its card) with the app secret, so nothing more is stored."""

from __future__ import annotations

import hmac
from typing import Any

from flask import current_app


def bound_token(value: str, purpose: str) -> str:
    """The form token for a browser holding ``value`` (a cookie, a session id, a thumbprint)."""
    return current_app.extensions["psc_app_secret"].keyed_hash(value, f"csrf\0{purpose}")


def same_token(presented: Any, expected: str) -> bool:
    """Constant-time comparison that never fails on odd input (compared as bytes: a non-ASCII
    str would make ``compare_digest`` raise)."""
    if not isinstance(presented, str) or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
