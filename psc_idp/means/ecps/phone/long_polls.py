"""Bounds on device long polls held at once, per device and in all, in this process.

A long poll holds a server thread while it waits. Process-local on purpose: what is bounded
is this process's threads, not shared state; past a bound the device gets a fast 429 and
retries later, and the protocol endpoints always keep free threads."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from psc_idp.config import current_settings
from psc_idp.means.ecps.errors import TooManyRequests

RETRY_AFTER = 5


class LongPolls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_device: Counter[str] = Counter()
        self._total = 0

    @contextmanager
    def slot(self, device_id: str) -> Iterator[None]:
        """Hold one long-poll slot for ``device_id``, or raise ``TooManyRequests``."""
        settings = current_settings()
        with self._lock:
            if self._by_device[device_id] >= settings.ecps_long_polls_per_device:
                raise TooManyRequests(
                    "Cette e-CPS attend déjà des demandes sur une autre connexion.", RETRY_AFTER
                )
            if self._total >= settings.ecps_long_polls_per_process:
                raise TooManyRequests("Serveur occupé : réessayez dans un instant.", RETRY_AFTER)
            self._by_device[device_id] += 1
            self._total += 1
        try:
            yield
        finally:
            with self._lock:
                self._total -= 1
                self._by_device[device_id] -= 1
                if self._by_device[device_id] <= 0:
                    del self._by_device[device_id]


def bound_by_threads(configured: int, threads: int) -> int:
    """The long polls a process may hold at once: at most half its threads, so that the
    protocol endpoints keep the other half whatever ``PSC_ECPS_LONG_POLLS_PER_PROCESS`` says
    (``psc-idp serve --threads 2`` holds one; with one thread, none: every long poll gets the
    429 and its ``Retry-After``)."""
    return max(0, min(configured, threads // 2))


def long_polls() -> LongPolls:
    """This application's bounds (one per app object, so per process)."""
    return current_app.extensions.setdefault("psc_ecps_long_polls", LongPolls())
