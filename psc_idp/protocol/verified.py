"""Access tokens this process has already verified.

A resource server introspects the same access token on every API call, a single-page app calls
UserInfo with it again and again; checking its RS256 signature and parsing it each time was half
of those endpoints' work. A signature check is a pure function of the token and the key, so its
outcome can be remembered without holding anything another instance would need: what can change
is checked at every use all the same (expiry here, the key still being in the key set after a
rotation, and revocation and the professional's state in the database by the caller).

Bounded (least recently used out first); each entry is the token's own claims."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

#: Tokens remembered per worker process: about 4 KB each (token and claims).
CAPACITY = 2048


class VerifiedTokens:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._lock = Lock()

    def get(self, token: str) -> tuple[str, dict[str, Any]] | None:
        """``(kid, claims)`` of a token verified before, or None. The claims are the caller's
        to change (a copy)."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            self._entries.move_to_end(token)
        kid, claims = entry
        return kid, dict(claims)

    def put(self, token: str, kid: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self._entries[token] = (kid, dict(claims))
            self._entries.move_to_end(token)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)
