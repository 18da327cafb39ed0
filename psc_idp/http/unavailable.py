"""The database is out of reach: a 503 the caller may retry, never a 500.

A refused or dropped connection, a pool exhausted, a SQLite file that cannot be opened: none is
a bug of the request, and every instance recovers when the database does."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: Seconds a client is asked to wait (``Retry-After``, RFC 9110 §10.2.3).
RETRY_AFTER = 5


def is_outage(error: BaseException) -> bool:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
