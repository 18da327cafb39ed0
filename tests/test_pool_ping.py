"""A PostgreSQL connection is pinged when it leaves the pool after resting there, not when it
comes back from a request moments ago; a connection the server closed meanwhile is replaced
before any request meets it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from psc_idp.pool_ping import ping_after_rest

pytestmark = pytest.mark.skipif(
    not os.environ.get("PSC_TEST_BASE_DATABASE_URL"), reason="PostgreSQL only"
)
REST = 0.2


def _engine(rest: float) -> Engine:
    # One connection: every checkout takes the same one, which the test can kill.
    engine = create_engine(os.environ["PSC_TEST_BASE_DATABASE_URL"], pool_size=1, max_overflow=0)
    ping_after_rest(engine, rest=rest)
    return engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = _engine(REST)
    yield made
    made.dispose()


def _pings(engine: Engine, monkeypatch) -> list[bool]:
    """Each ping's outcome: True for a live connection, False for one that failed it."""
    seen: list[bool] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:
        try:
            alive = ping(dbapi_connection)
        except Exception:
            seen.append(False)
            raise
        seen.append(alive)
        return alive

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _kill_its_connection(engine: Engine) -> int:
    """The server ends the pooled connection of ``engine`` (from a second pool); its pid."""
    victim = _backend(engine)
    killer = _engine(REST)
    try:
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            other.commit()
    finally:
        killer.dispose()
    return victim


def test_a_connection_back_moments_ago_is_not_pinged(engine, monkeypatch):
    pings = _pings(engine, monkeypatch)
    pids = {_backend(engine) for _ in range(20)}
    assert len(pids) == 1  # the same connection each time
    assert pings == []


def test_a_connection_that_rested_is_pinged_and_replaced_if_the_server_closed_it(
    engine, monkeypatch
):
    pings = _pings(engine, monkeypatch)
    victim = _kill_its_connection(engine)
    time.sleep(REST * 1.5)
    assert _backend(engine) != victim  # no error: a new connection answered
    assert pings == [False]  # the dead one failed its ping; the new one was not pinged
    time.sleep(REST * 1.5)
    _backend(engine)
    assert pings == [False, True]  # the new one, after resting: pinged, alive


def test_without_the_ping_the_request_would_meet_the_dead_connection(monkeypatch):
    """The control: the same connection killed, taken again before its rest is over."""
    engine = _engine(rest=3600)
    try:
        pings = _pings(engine, monkeypatch)
        victim = _kill_its_connection(engine)
        with pytest.raises(OperationalError):
            _backend(engine)
        assert _backend(engine) != victim  # the failure had the pool renew the connection
        assert pings == []
    finally:
        engine.dispose()
