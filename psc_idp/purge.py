"""What ``psc-idp purge`` deletes: each package registers its own rule from its setup.

A purge function takes the settings and returns the rows it deleted, by name; it stages its
deletes in the session, and the command commits them all in one transaction. Every table of the
metadata has either a rule here or a reason to be kept (tests/test_purge_every_table.py)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import delete

from psc_idp.config import Settings
from psc_idp.extensions import db

PurgeFunction = Callable[[Settings], dict[str, int]]
EXTENSION = "psc_purges"


def register_purge(app: Flask, name: str, fn: PurgeFunction) -> None:
    purges: dict[str, PurgeFunction] = app.extensions.setdefault(EXTENSION, {})
    if purges.get(name, fn) is not fn:
        raise ValueError(f"purge {name!r} registered twice")
    purges[name] = fn


def registered(app: Flask | None = None) -> dict[str, PurgeFunction]:
    return dict((app or current_app).extensions.get(EXTENSION, {}))


def purge_all(settings: Settings) -> dict[str, int]:
    """Run every registered purge in the current transaction (the caller commits)."""
    counts: dict[str, int] = {}
    for name, fn in registered().items():
        for key, deleted in fn(settings).items():
            if key in counts:
                raise ValueError(f"purge {name!r}: {key!r} already counted by another purge")
            counts[key] = deleted
    return counts


def delete_where(model, condition) -> int:
    """Delete the rows of ``model`` matching ``condition``; how many."""
    return db.session.execute(delete(model).where(condition)).rowcount or 0
