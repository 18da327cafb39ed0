"""The caller's address, as the limits per address count it."""

from __future__ import annotations

from flask import Request

from psc_idp.tls.presented import from_trusted_proxy


def client_address(request: Request) -> str:
    """The peer, or the last hop a trusted proxy names (a forged header from elsewhere is
    ignored)."""
    if from_trusted_proxy(request):
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote_addr or ""
