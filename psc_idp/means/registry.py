"""Which means are offered, in which order. ``login/`` reads the same registry to find the
means of a CIBA channel (``login.headless``), without importing any means."""

from __future__ import annotations

from flask import Flask, current_app

from psc_idp.login.headless import REGISTRY
from psc_idp.means.base import Authenticator


def register(app: Flask, authenticator: Authenticator) -> None:
    app.extensions.setdefault(REGISTRY, {})[authenticator.id] = authenticator


def registered_authenticators() -> list[Authenticator]:
    return list(current_app.extensions.get(REGISTRY, {}).values())


def enabled_authenticators() -> list[Authenticator]:
    return [a for a in registered_authenticators() if a.is_enabled()]


def get_authenticator(means_id: str) -> Authenticator | None:
    return next((a for a in enabled_authenticators() if a.id == means_id), None)


def audit_labels() -> dict[str, str]:
    """French labels of every means's audit events (the account page shows them)."""
    labels: dict[str, str] = {}
    for authenticator in registered_authenticators():
        labels.update(authenticator.audit_events)
    return labels
