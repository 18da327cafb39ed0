"""Hashing of high-entropy secrets at rest (client secrets, codes, refresh tokens)."""

from __future__ import annotations

import hmac
import secrets

from flask import current_app


def _app_secret():
    return current_app.extensions["psc_app_secret"]


def hash_secret(value: str, purpose: str = "secret") -> str:
    return _app_secret().keyed_hash(value, purpose)


def verify_secret(presented: str | None, stored: str | None, purpose: str = "secret") -> bool:
    if not presented or not stored:
        return False
    return hmac.compare_digest(hash_secret(presented, purpose), stored)


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random value with ``nbytes`` of entropy."""
    return secrets.token_urlsafe(nbytes)
