"""The listening side: one daemon thread per worker receives the other instances' messages
and wakes this process's waiters. It reconnects after an outage (PostgreSQL restarted, Redis
gone) with a growing pause, and wakes every waiter after a gap, since messages may have been
lost meanwhile."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from flask import Flask

from psc_idp.bus.hub import HUB
from psc_idp.bus.publish import WIRE_CHANNEL, decode, transport
from psc_idp.extensions import db

log = logging.getLogger(__name__)
MAX_PAUSE = 5.0


def _deliver(payload: str | bytes) -> None:
    message = decode(payload)
    if message is not None:
        HUB.deliver(*message)


def listen_postgres(url: str, connected: threading.Event) -> None:
    """One LISTEN session, until the connection breaks."""
    import psycopg

    # Keepalives: a server that vanished without closing the socket is noticed too.
    with psycopg.connect(
        url,
        autocommit=True,
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=5,
        keepalives_count=3,
        connect_timeout=5,
    ) as connection:
        connection.execute(f"LISTEN {WIRE_CHANNEL}")
        connected.set()
        HUB.wake_all()
        for notification in connection.notifies():
            _deliver(notification.payload)


def listen_redis(url: str, connected: threading.Event) -> None:
    """One subscription, until the connection breaks."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(WIRE_CHANNEL)
        connected.set()
        HUB.wake_all()
        while True:
            message = pubsub.get_message(timeout=5.0)
            if message is not None and message.get("type") == "message":
                _deliver(message["data"])
    finally:
        pubsub.close()
        client.close()


def _run_forever(session: Callable[[threading.Event], None], connected: threading.Event) -> None:
    pause = 0.5
    while True:
        try:
            session(connected)
        except Exception as error:  # reconnect whatever broke; the poll covers the gap
            log.warning("wake-up listener disconnected: %s", error)
        if connected.is_set():
            pause = 0.5  # it had worked: retry soon
        connected.clear()
        time.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)


def start_listener(app: Flask) -> tuple[threading.Thread, threading.Event] | None:
    """Start this worker's listener; None when there is nothing to listen to (SQLite without
    Redis: other processes are seen by their poll). The event is set while connected."""
    url = transport(app).redis_url
    with app.app_context():
        engine_url = db.engine.url
    if url:
        session: Callable[[threading.Event], None] = partial(listen_redis, url)
    elif engine_url.get_backend_name() == "postgresql":
        libpq = engine_url.set(drivername="postgresql").render_as_string(hide_password=False)
        session = partial(listen_postgres, libpq)
    else:
        return None
    connected = threading.Event()
    thread = threading.Thread(
        target=_run_forever, args=(session, connected), name="wake-listener", daemon=True
    )
    thread.start()
    return thread, connected
