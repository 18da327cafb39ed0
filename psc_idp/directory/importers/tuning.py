"""SQLite settings for the length of an import, on each connection the import uses.

A larger page cache keeps the growing indexes of the directory tables in memory, and a longer
write-ahead log between checkpoints lets an index page changed by many batches reach the
database file once instead of once per batch. Durability is unchanged: each batch still
commits, and the log is checkpointed into the database file when the import ends. The
connections that had these settings are then closed (the pool opens ordinary ones again)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from psc_idp.sqlite_tuning import database_file

CACHE_KIB = 64 * 1024
WAL_PAGES = 16 * 1024  # pages between checkpoints (64 MB at SQLite's 4 KiB pages)


def _tune(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
    cursor.close()


@contextmanager
def import_settings(engine: Engine) -> Iterator[None]:
    """Tune the connections checked out inside the block (SQLite database files only)."""
    if engine.dialect.name != "sqlite" or database_file(engine) is None:
        yield
        return
    event.listen(engine, "checkout", _tune)
    try:
        yield
    except BaseException:
        event.remove(engine, "checkout", _tune)
        engine.dispose()  # closes the tuned connections now back in the pool
        raise
    event.remove(engine, "checkout", _tune)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
