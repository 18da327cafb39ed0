"""A pooled PostgreSQL connection is pinged when it comes out of the pool after resting there,
not on every checkout.

The server may have closed a connection while it rested in the pool (restart, failover, idle
timeout): the ping finds it dead and the pool opens a new one, so the request never meets
it. A connection handed back moments ago was alive then; pinging it on every request cost one
round trip to the server per request (a fifth of a UserInfo answer on PostgreSQL). HikariCP
makes the same trade (``aliveBypassWindowMs``, 500 ms). A connection that dies in the window
fails its request with a 503 (``http/unavailable``), and that failure has the pool renew every
connection opened before it, so that a restart under load costs only the requests that were
already on their way."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

#: Seconds a connection may rest in the pool and still be handed out without a ping.
REST_WITHOUT_PING = 0.5
_RETURNED_AT = "psc_returned_at"


def ping_after_rest(engine: Engine, rest: float = REST_WITHOUT_PING) -> None:
    """Ping a connection on checkout once it rested ``rest`` seconds or more (any backend but
    SQLite, whose file cannot go away)."""
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < rest:
            return  # new, or back from a request moments ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error
        if not alive:
            raise DisconnectionError("the connection did not answer its ping")
