"""A small fixed-window counter in the database: ``hit(key, limit, window)``.

One row per ``(key, window_start)``; each hit increments it with a single upsert that returns
the new count (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL),
so concurrent hits on any instance are counted exactly. A hit is spent even when the request
then fails: it is committed at once. Windows older than ``MAX_WINDOW`` are purged
whenever a new window opens, so the table stays small without a cron job."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, bindparam, delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, from_epoch, now, to_epoch

#: The longest window any caller uses; older rows can no longer matter.
MAX_WINDOW = 24 * 3600


class ThrottleWindow(db.Model):
    __tablename__ = "throttle_window"

    #: A keyed hash of what is counted (no national id or address in clear).
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    #: Seconds until the window ends (what ``Retry-After`` says when refused).
    retry_after: int


def _upsert(dialect: str) -> Any:
    """The counting statement, built once per dialect (Core, bound parameters): building it
    per hit cost more than running it."""
    if dialect not in _UPSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = ThrottleWindow.__table__
        _UPSERTS[dialect] = (
            insert(table)
            .values(key=bindparam("key"), window_start=bindparam("start"), count=bindparam("n"))
            .on_conflict_do_update(
                index_elements=["key", "window_start"],
                set_={"count": table.c.count + bindparam("n")},
            )
            .returning(table.c.count)
        )
    return _UPSERTS[dialect]


_UPSERTS: dict[str, Any] = {}
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


#: A large limit is counted in batches of this fraction of it (see ``batch_for``).
BATCH_FRACTION = 50


def batch_for(limit: int) -> int:
    """How many hits a process may count before adding them to the database: 1 (every hit at
    once, exact) up to a limit of ``2 × BATCH_FRACTION``, then a fiftieth of the limit. Across
    instances a limit then holds to within one batch per worker process (2 % of it each): the
    3,000 token requests per 10 s of a client cost one statement per 60, not one each."""
    return max(1, limit // BATCH_FRACTION)


@dataclass
class _Tally:
    """This process's view of one counter: the database's count at its last addition, and
    the hits counted here since."""

    window_start: int
    known: int = 0
    pending: int = 0


#: Counters counted in batches, by hashed key (bounded: a window's tallies go with it).
_TALLIES: dict[str, _Tally] = {}
_TALLIES_LOCK = threading.Lock()
_MAX_TALLIES = 10_000


def hit(key: str, limit: int, window: int, in_session: bool = False, batch: int = 1) -> Verdict:
    """Count one event for ``key`` in the current ``window``-second window; allowed while the
    count is at most ``limit`` (a limit of 0 or less turns the throttle off).

    In a transaction of its own; with ``in_session``, on the session's connection, committing
    the session at once: no second connection per request (the hot paths, which count before
    anything else is staged)."""
    if limit <= 0:
        return Verdict(True, 0, 0)
    window = max(1, min(int(window), MAX_WINDOW))
    moment = now()
    start_epoch = to_epoch(moment) // window * window
    start = from_epoch(start_epoch)
    hashed = current_app.extensions["psc_app_secret"].keyed_hash(key, "throttle")
    retry_after = max(1, start_epoch + window - to_epoch(moment))
    hits = 1
    if batch > 1:
        with _TALLIES_LOCK:
            tally = _tally(hashed, start_epoch)
            tally.pending += 1
            if tally.pending < batch:
                count = tally.known + tally.pending
                return Verdict(count <= limit, count, retry_after)
            hits, tally.pending = tally.pending, 0
    if in_session:
        count = _count(db.session.connection(), hashed, start, moment, hits)
        db.session.commit()
    else:
        with db.engine.begin() as connection:
            count = _count(connection, hashed, start, moment, hits)
    if batch > 1:
        with _TALLIES_LOCK:
            tally = _tally(hashed, start_epoch)
            tally.known = max(tally.known, count)
            count = tally.known + tally.pending
    return Verdict(count <= limit, count, retry_after)


def _tally(hashed: str, start_epoch: int) -> _Tally:
    """The tally of the current window (a new window starts from zero); the caller holds
    the lock."""
    tally = _TALLIES.get(hashed)
    if tally is None or tally.window_start != start_epoch:
        if len(_TALLIES) >= _MAX_TALLIES:
            _TALLIES.clear()  # past windows only cost a few counts of precision, never safety
        tally = _TALLIES[hashed] = _Tally(start_epoch)
    return tally


def _count(connection: Any, hashed: str, start: datetime, moment: datetime, hits: int) -> int:
    if connection.dialect.name == "postgresql":
        # Every request of a client updates its window's row: waiting for the WAL flush while
        # holding that row would queue them all behind the disk. A counter may lose its last
        # hits in a crash of PostgreSQL itself; nothing else is in this transaction.
        connection.execute(_ASYNC_COMMIT)
    statement = _upsert(connection.dialect.name)
    count = connection.execute(statement, {"key": hashed, "start": start, "n": hits}).scalar_one()
    if count == hits:  # the window's row was just created
        _purge(connection, moment)
    return count


def _purge(connection, moment: datetime) -> None:
    cutoff = moment - timedelta(seconds=MAX_WINDOW)
    connection.execute(delete(ThrottleWindow).where(ThrottleWindow.window_start < cutoff))


def purge_throttle(settings: Settings) -> dict[str, int]:
    """``psc-idp purge``: windows that can no longer count (also done when a window opens)."""
    cutoff = now() - timedelta(seconds=MAX_WINDOW)
    deleted = db.session.execute(delete(ThrottleWindow).where(ThrottleWindow.window_start < cutoff))
    return {"throttle_windows": deleted.rowcount or 0}
