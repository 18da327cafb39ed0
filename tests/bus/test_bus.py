"""The bus inside one process: a message wakes its subscribers once the change commits, never
for a change rolled back; the listener comes back after its connection is cut."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from psc_idp import bus
from psc_idp.bus.hub import ANY
from psc_idp.bus.listener import start_listener
from psc_idp.bus.publish import decode, encode
from psc_idp.extensions import db


def test_a_message_wakes_its_key_and_the_whole_channel_only():
    with (
        bus.subscribe(("ecps", "a")) as mine,
        bus.subscribe(("ecps", ANY)) as everyone,
        bus.subscribe(("ecps", "b")) as other,
    ):
        bus.hub.HUB.deliver("ecps", "a")
        assert mine.wait(0) and everyone.wait(0)
        assert not other.wait(0)
        assert not mine.wait(0)  # re-armed after a wake-up


def test_payloads_round_trip_and_garbage_is_ignored():
    assert decode(encode("ciba", "1234")) == ("ciba", "1234")
    assert decode(b"login:tx-1") == ("login", "tx-1")
    assert decode("no separator") is None
    assert decode(":") is None


def test_published_at_the_commit_not_before_and_not_after_a_rollback(app):
    with app.app_context(), bus.subscribe(("ciba", "r1")) as waiting:
        bus.publish("ciba", "r1")
        assert not waiting.wait(0)
        db.session.rollback()
        db.session.commit()
        assert not waiting.wait(0)  # the rolled-back message is gone
        bus.publish("ciba", "r1")
        db.session.commit()
        assert waiting.wait(0)


def _listener_backends(url: str) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'LISTEN %'"
            )
        ).all()
    engine.dispose()
    return [row.pid for row in rows]


def test_the_postgresql_listener_reconnects_after_its_backend_is_killed(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    listener = start_listener(app)
    assert listener is not None
    try:
        _cut_and_wake(listener, database_url)
    finally:
        listener.stop()
    assert not listener.thread.is_alive()


def _cut_and_wake(listener, database_url: str) -> None:
    connected = listener.connected
    assert connected.wait(10)
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for pid in _listener_backends(database_url):
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + 15
    while connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)  # the listener notices the cut
    assert connected.wait(15), "the listener did not come back"
    woken = threading.Event()
    with bus.subscribe(("ciba", "after-restart")) as waiting:
        with engine.connect() as connection:  # a NOTIFY from outside this process's commits
            connection.execute(
                text("SELECT pg_notify(:channel, 'ciba:after-restart')"),
                {"channel": listener.channel},
            )
        if waiting.wait(5):
            woken.set()
    engine.dispose()
    assert woken.is_set()
