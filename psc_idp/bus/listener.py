"""The listening side: one daemon thread per worker receives the other instances' messages
and wakes this process's waiters. It reconnects after an outage (PostgreSQL restarted, Redis
gone) with a growing pause, and wakes every waiter after a gap, since messages may have been
lost meanwhile."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Any

from flask import Flask

from psc_idp.bus.hub import HUB
from psc_idp.bus.publish import decode, transport
from psc_idp.extensions import db

log = logging.getLogger(__name__)
FIRST_PAUSE = 0.5
MAX_PAUSE = 5.0


def _deliver(payload: str | bytes) -> None:
    message = decode(payload)
    if message is not None:
        HUB.deliver(*message)


class Listener(ABC):
    """A connection to the carrier, kept open; ``connected`` is set while it listens."""

    def __init__(self, url: str, channel: str) -> None:
        self.url = url
        self.channel = channel  # the deployment's (bus/channel.py)
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self._open: Any = None  # the live connection, closed by stop()
        self.thread = threading.Thread(target=self._run, name="wake-listener", daemon=True)

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._open is not None:
            try:
                self._open.close()  # unblocks the wait on the socket
            except Exception as error:
                log.debug("closing the listener: %s", error)
        self.thread.join(timeout=10)

    @abstractmethod
    def listen(self) -> None:
        """Listen until the connection drops (PostgreSQL LISTEN, Redis SUBSCRIBE)."""

    def _run(self) -> None:
        pause = FIRST_PAUSE
        while not self.stopped.is_set():
            try:
                self.listen()
            except Exception as error:  # reconnect whatever broke; the poll covers the gap
                if not self.stopped.is_set():
                    log.warning("wake-up listener disconnected: %s", error)
            if self.connected.is_set():
                pause = FIRST_PAUSE  # it had worked: retry soon
            self.connected.clear()
            self._open = None
            if self.stopped.wait(pause):
                return
            pause = min(pause * 2, MAX_PAUSE)

    def _listening(self) -> None:
        self.connected.set()
        HUB.wake_all()  # whatever was sent while disconnected is reread from the database


class PostgresListener(Listener):
    def listen(self) -> None:
        import psycopg

        # Keepalives: a server that vanished without closing the socket is noticed too.
        with psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=5,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        ) as connection:
            self._open = connection
            connection.execute(f"LISTEN {self.channel}")  # a checked identifier
            self._listening()
            for notification in connection.notifies():
                _deliver(notification.payload)


class RedisListener(Listener):
    def listen(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=5, health_check_interval=30)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._open = pubsub
        try:
            pubsub.subscribe(self.channel)
            self._listening()
            while not self.stopped.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    _deliver(message["data"])
        finally:
            pubsub.close()
            client.close()


def start_listener(app: Flask) -> Listener | None:
    """Start this worker's listener; None when there is nothing to listen to (SQLite without
    Redis: other processes are seen by their poll)."""
    carrier = transport(app)
    if carrier.redis_url:
        return RedisListener(carrier.redis_url, carrier.channel).start()
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresListener(libpq, carrier.channel).start()
