"""SQLite as a server database: WAL, and writers that queue instead of polling for the lock.

SQLite admits one writer at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5 … then 100 ms between attempts: under load a writer can sleep a
whole second while the lock was free most of that time (the refresh and CIBA tails of the
benchmark), or give up. Here a connection takes a writers' lock before its first INSERT,
UPDATE or DELETE and gives it back when its transaction ends: the threads of a worker queue on
a ``threading.Lock`` (woken at once), the workers on an ``flock`` of a file beside the
database (a lock per process alone would starve the other workers: its threads hand the turn
to each other at once while the other worker's writer sleeps in SQLite's handler). SQLite's own
lock and busy timeout stay underneath, unchanged: nothing here is needed for correctness, and a
writer that cannot get its turn within the busy timeout goes on without it."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: Milliseconds; SQLite's own wait for its lock, and the longest wait in the queue.
BUSY_TIMEOUT_MS = 10000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

log = logging.getLogger(__name__)


class WriterQueue:
    """The writers' turn on one database file: a connection takes it before its first write
    and gives it back when its transaction ends. Threads of a process queue on a lock; the
    processes (workers, instances on the host) on an ``flock`` of a file beside the database,
    which one thread per process at most polls every millisecond or two."""

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_MS / 1000):
        self.path = path
        self.timeout = timeout
        self._open()
        # A forked worker gets its own descriptor (an inherited one would share the parent's
        # flock) and a fresh lock, before any of its threads runs.
        os.register_at_fork(after_in_child=self._open)

    def _open(self) -> None:
        self._threads = threading.Lock()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        #: id of the DB-API connection holding the turn (None: free).
        self._holder: int | None = None

    def acquire(self, owner: int) -> None:
        if self._holder == owner:
            return
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return  # SQLite's busy timeout decides, as without the queue
        delay = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._threads.release()
                    return
                time.sleep(delay)
                delay = min(delay * 2, 0.002)
        self._holder = owner

    def release(self, owner: int) -> None:
        if self._holder != owner:
            return
        self._holder = None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


def database_file(engine: Engine) -> Path | None:
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def tune_sqlite(engine: Engine) -> WriterQueue | None:
    """WAL lets readers work while one instance writes; NORMAL sync is durable across crashes of
    the process (not of the machine), the usual trade-off for an embedded default."""
    if engine.dialect.name != "sqlite":
        return None

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    database = database_file(engine)
    queue = _writer_queue(database) if database else None
    if queue is not None:
        queue_writers(engine, queue)
    engine.dispose()  # connections opened before the listeners get them too
    return queue


def _writer_queue(database: Path) -> WriterQueue | None:
    """The queue beside ``database``; None where its lock file cannot be written (a read-only
    file system): the writes then meet SQLite's own refusal, answered 503 (http/unavailable)."""
    try:
        return WriterQueue(database.with_name(database.name + ".writers"))
    except OSError as error:
        log.warning("SQLite writers' queue off (%s): writes will be refused", error)
        return None


def _owner(connection: Any) -> int:
    """The DB-API connection behind the pool's proxy (the dialect sees either)."""
    return id(getattr(connection, "dbapi_connection", connection))


#: The queue of each tuned engine's dialect (one engine per app), for writes that do not go
#: through SQLAlchemy's execution events (psc_idp/prepared_sql.py).
_QUEUES: dict[int, WriterQueue] = {}


def before_write(dialect: Any, dbapi_connection: Any) -> None:
    """Take the writers' turn for a write run on the driver's cursor directly."""
    queue = _QUEUES.get(id(dialect))
    if queue is not None:
        queue.acquire(id(dbapi_connection))


def queue_writers(engine: Engine, queue: WriterQueue) -> None:
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    _QUEUES[id(dialect)] = queue

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            queue.acquire(_owner(conn.connection))

    # The lock is given back once the transaction is over, not before its COMMIT ran.
    def do_commit(connection: Any) -> None:
        try:
            commit(connection)
        finally:
            queue.release(_owner(connection))

    def do_rollback(connection: Any) -> None:
        try:
            rollback(connection)
        finally:
            queue.release(_owner(connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        queue.release(id(dbapi_connection))  # a connection returned mid-transaction

    @event.listens_for(engine, "close")
    def _close(dbapi_connection: Any, _record: Any) -> None:
        queue.release(id(dbapi_connection))
