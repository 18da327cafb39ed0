"""Binding codes: what the professional compares between the service and their phone."""

from __future__ import annotations

import secrets


def binding_code() -> str:
    """Two digits, shown on the client and on the phone, as PSC does."""
    return f"{secrets.randbelow(100):02d}"
