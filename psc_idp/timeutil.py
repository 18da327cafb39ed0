"""One clock for the whole server, so tests can reason about expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    """Naive UTC ``datetime`` (what SQLite and PostgreSQL ``timestamp`` columns store)."""
    return datetime.now(UTC).replace(tzinfo=None)


def epoch() -> int:
    return int(time.time())


def to_epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())
