"""The writes of a token request, run together when its tokens are saved.

A token costs one or two RS256 signatures (0.7 ms each on these cores). On SQLite a
transaction holds the database's single writer lock from its first write to its commit, so a
write made before signing would keep every other worker's writer waiting through the
signatures. The grants therefore stage their writes (rotation of a refresh token, the SSO
session kept alive, the new rows) and ``save_token`` runs them in order, then commits: the
lock is held for a few statements. A staged check that fails (a refresh token rotated
concurrently) raises before anything is committed; the loser only spent a signature."""

from __future__ import annotations

from collections.abc import Callable

from flask import g

_KEY = "_psc_staged_writes"


def stage(write: Callable[[], None]) -> None:
    """Run ``write`` when the request's tokens are saved (in staging order)."""
    g.setdefault(_KEY, []).append(write)


def run_staged() -> None:
    for write in g.pop(_KEY, []):
        write()


def discard_staged() -> None:
    g.pop(_KEY, None)
