"""A client secret under brute-force protection (``psc_idp.lockout``, kind ``client``).

A locked client is answered exactly as a wrong secret (``invalid_client``, 401): whoever is
guessing learns nothing, not even that the lock exists, and the attempt still counts. The client's
state comes with its row (``lookups.enabled_client``): a good secret costs no statement unless
failures were counted, a wrong one a single upsert."""

from __future__ import annotations

from typing import Any

from psc_idp import lockout
from psc_idp.config import current_settings
from psc_idp.protocol.secrets import verify_secret

SOURCE = "secret"
_UNREAD = object()


def check(client: Any, presented: str) -> bool:
    if not current_settings().lockout_enabled:
        return verify_secret(presented, client.secret_hash)
    known = getattr(client, "lockout_state", _UNREAD)
    if known is _UNREAD:  # a client not read by the hot path's lookup
        known = lockout.state(lockout.CLIENT, client.client_id)
    if known is not None and known.locked():
        lockout.fail(lockout.CLIENT, client.client_id, SOURCE)
        return False
    if verify_secret(presented, client.secret_hash):
        lockout.succeed(lockout.CLIENT, client.client_id, known)
        return True
    lockout.fail(lockout.CLIENT, client.client_id, SOURCE)
    return False


def verified_without_writes(client: Any, presented: str) -> bool:
    """True when ``check`` would accept ``presented`` and write nothing: the secret is right and
    no failure is counted for the client. False means only "ask ``check``" (a wrong secret, a
    count to clear or a lock), which then counts what it must."""
    known = getattr(client, "lockout_state", _UNREAD)
    if current_settings().lockout_enabled and known is not None:
        return False
    return verify_secret(presented, client.secret_hash)
