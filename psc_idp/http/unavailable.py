"""The database is out of reach: a 503 the caller may retry, never a 500.

A refused or dropped connection, a pool exhausted, a SQLite file that cannot be opened, a
database that refuses writes (disk full, file or server read-only): none is a bug of the
request, and every instance recovers when the database does."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: Seconds a client is asked to wait (``Retry-After``, RFC 9110 §10.2.3).
RETRY_AFTER = 5


#: SQLite's result codes and PostgreSQL's SQLSTATEs of a database that refuses writes.
_SQLITE_REFUSALS = ("SQLITE_READONLY", "SQLITE_FULL")
_SQLITE_REFUSAL_TEXTS = ("readonly database", "database or disk is full")
_POSTGRES_REFUSALS = {"25006", "53100"}  # read_only_sql_transaction, disk_full


def refuses_writes(error: BaseException) -> bool:
    """The database answers but cannot store: an operator must act (free space, rights)."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _POSTGRES_REFUSALS:
        return True
    name = str(getattr(original, "sqlite_errorname", ""))
    if name.startswith(_SQLITE_REFUSALS):
        return True
    return any(text in str(original) for text in _SQLITE_REFUSAL_TEXTS)


def is_outage(error: BaseException) -> bool:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    if refuses_writes(error):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
