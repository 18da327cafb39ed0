"""A worker's background round: some delivery work (CIBA pings, logout tokens) run every
``period`` seconds, and at once when a change it waits for is committed on any instance.

The work claims its rows in the database, so every worker of every instance may run the same
round: the bus only makes it prompt, the period covers a lost wake-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from flask import Flask

from psc_idp.bus.hub import subscribe
from psc_idp.extensions import db

log = logging.getLogger(__name__)


def start_rounds(
    app: Flask,
    name: str,
    work: Callable[[], object],
    topics: Iterable[tuple[str, str]],
    period: float = 1.0,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """Run ``work`` in an app context in a daemon thread ``name`` until ``stop`` is set."""
    stop = stop or threading.Event()
    wanted = tuple(topics)

    def loop() -> None:
        with subscribe(*wanted) as wake_up:
            while not stop.is_set():
                wake_up.wait(period)
                if not stop.is_set():
                    _round(app, name, work)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def _round(app: Flask, name: str, work: Callable[[], object]) -> None:
    """One round, whatever goes wrong in it (the next round retries)."""
    with app.app_context():
        try:
            work()
        except Exception:  # keep the loop alive; the next round retries
            log.exception("%s round failed", name)
            db.session.rollback()
        finally:
            db.session.remove()
