"""Each deployment has its own wire channel (psc_idp/bus/channel.py): two deployments sharing
one Redis server (pub/sub channels are the server's, whatever the database number) do not wake
each other; two instances of one deployment share the channel, however each writes its URLs."""

from __future__ import annotations

import time

import pytest
import redis
from sqlalchemy import create_engine

from psc_idp import bus
from psc_idp.bus.channel import VALID, database_identity, redis_database, wire_channel
from psc_idp.bus.listener import start_listener
from psc_idp.bus.publish import transport
from psc_idp.config import Settings
from psc_idp.extensions import db

REDIS_A = "redis://127.0.0.1:6379/7"
REDIS_B = "redis://127.0.0.1:6379/8"
PG = "postgresql+psycopg://idp:first@db.internal/psc"


def _channel(**settings: str) -> str:
    return wire_channel(Settings(**settings))


def test_instances_of_one_deployment_derive_one_channel():
    first = _channel(database_url=PG, redis_url="redis://cache:6379/2")
    # Another role, password, driver, host case and the default port written out.
    second = _channel(
        database_url="postgresql+psycopg2://other:second@DB.internal:5432/psc",
        redis_url="redis://:secret@cache:6379?db=2",
    )
    assert first == second
    assert VALID.fullmatch(first) and first.startswith("psc_idp_bus_")


@pytest.mark.parametrize(
    "other",
    [
        {"database_url": "postgresql+psycopg://idp:first@db.internal/psc_recette"},
        {"database_url": "postgresql+psycopg://idp:first@db2.internal/psc"},
        {"database_url": "postgresql+psycopg://idp:first@db.internal:5433/psc"},
        {"redis_url": "redis://cache:6379/3"},
    ],
)
def test_another_deployment_derives_another_channel(other):
    mine = {"database_url": PG, "redis_url": "redis://cache:6379/2"}
    assert _channel(**mine) != _channel(**{**mine, **other})


def test_one_sqlite_file_is_one_deployment_whichever_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = _channel(database_url="sqlite:///var/idp.sqlite3")
    absolute = _channel(database_url=f"sqlite:///{tmp_path}/var/idp.sqlite3")
    assert relative == absolute
    assert relative != _channel(database_url=f"sqlite:///{tmp_path}/other.sqlite3")
    assert database_identity("sqlite://") == "sqlite:"


def test_redis_database_number():
    assert redis_database("redis://h:6379/5") == "5"
    assert redis_database("redis://h:6379?db=4") == "4"
    assert redis_database("redis://h:6379") == "0"
    assert redis_database("") == ""


def test_a_configured_channel_is_used_as_is(monkeypatch):
    monkeypatch.setenv("PSC_BUS_CHANNEL", "psc_recette")
    assert wire_channel(Settings.from_env()) == "psc_recette"


@pytest.mark.parametrize("bad", ["Psc", "psc-idp", "1psc", "psc;listen", "p" * 64])
def test_a_channel_that_is_no_identifier_stops_the_start(make_app, bad):
    with pytest.raises(ValueError, match="PSC_BUS_CHANNEL"):
        make_app(bus_channel=bad)


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_A, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")


def _commit_publish(app, key: str) -> None:
    with app.app_context():
        bus.publish("ciba", key)
        db.session.commit()


@pytest.fixture
def deployments(make_app, tmp_path):
    """Deployment A (two instances on the suite's database, Redis database 7) and deployment B
    (its own SQLite database, Redis database 8), on one Redis server."""
    first = make_app(redis_url=REDIS_A)
    second = make_app(redis_url=REDIS_A)
    other = make_app(redis_url=REDIS_B, database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}")
    yield first, second, other
    with other.app_context():
        db.engine.dispose()


@needs_redis
def test_two_deployments_on_one_redis_do_not_wake_each_other(deployments):
    first, second, other = deployments
    mine, theirs = transport(first).channel, transport(other).channel
    assert transport(second).channel == mine != theirs
    subscriber = redis.Redis.from_url(REDIS_A, socket_timeout=10).pubsub()
    try:
        subscriber.subscribe(mine, theirs)
        for _ in range(2):  # both subscriptions confirmed before anything is published
            assert subscriber.get_message(timeout=5)["type"] == "subscribe"
        _commit_publish(first, "from-a")
        _commit_publish(other, "from-b")
        _commit_publish(second, "from-a2")
        received = []
        for _ in range(3):
            message = subscriber.get_message(timeout=5)
            assert message is not None, received
            received.append((message["channel"].decode(), message["data"]))
    finally:
        subscriber.close()
    # In order of publication: each deployment's messages on its own channel only.
    assert received == [
        (mine, b"ciba:from-a"),
        (theirs, b"ciba:from-b"),
        (mine, b"ciba:from-a2"),
    ]


@needs_redis
def test_a_listener_hears_its_own_deployment_only(deployments):
    first, _, other = deployments
    listener = start_listener(other)
    assert listener is not None and listener.channel == transport(other).channel
    publisher = redis.Redis.from_url(REDIS_B, socket_timeout=5)
    try:
        assert listener.connected.wait(10)
        with (
            bus.subscribe(("ciba", "for-a")) as stray,
            bus.subscribe(("ciba", "for-b")) as expected,
        ):
            # Sent from outside this process's commits, A's first: a listener on A's channel
            # would have delivered it before B's.
            publisher.publish(transport(first).channel, "ciba:for-a")
            publisher.publish(listener.channel, "ciba:for-b")
            assert expected.wait(5)
            assert not stray.wait(0)
    finally:
        publisher.close()
        listener.stop()


def test_postgresql_notifies_on_the_deployments_channel(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    channel = transport(app).channel
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            payloads: list[str] = []
            raw.add_notify_handler(lambda notification: payloads.append(notification.payload))
            raw.execute(f"LISTEN {channel}")
            _commit_publish(app, "over-postgresql")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and "ciba:over-postgresql" not in payloads:
                raw.execute("SELECT 1")  # reads what the server sent meanwhile
                time.sleep(0.05)
    finally:
        engine.dispose()
    assert "ciba:over-postgresql" in payloads
