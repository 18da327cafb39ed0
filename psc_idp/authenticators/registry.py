"""Which means are offered, in which order."""

from __future__ import annotations

from flask import Flask, current_app

from psc_idp.authenticators.base import Authenticator


def register(app: Flask, authenticator: Authenticator) -> None:
    app.extensions.setdefault("psc_authenticators", {})[authenticator.id] = authenticator


def enabled_authenticators() -> list[Authenticator]:
    registered: dict[str, Authenticator] = current_app.extensions.get("psc_authenticators", {})
    return [a for a in registered.values() if a.is_enabled()]


def get_authenticator(means_id: str) -> Authenticator | None:
    return next((a for a in enabled_authenticators() if a.id == means_id), None)
