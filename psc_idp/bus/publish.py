"""Publishing: a message leaves when the transaction that made the change commits (never for
a change rolled back, never before the change is readable)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from psc_idp.bus.channel import wire_channel
from psc_idp.bus.hub import HUB
from psc_idp.config import Settings
from psc_idp.extensions import db

log = logging.getLogger(__name__)

_PENDING = "psc_bus_pending"
_EXTENSION = "psc_bus"


def encode(channel: str, key: str) -> str:
    return f"{channel}:{key}"


def decode(payload: str | bytes) -> tuple[str, str] | None:
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    channel, sep, key = text.partition(":")
    return (channel, key) if sep and channel and key else None


class Transport:
    """How this application's messages reach the other processes."""

    def __init__(self, settings: Settings) -> None:
        self.redis_url = settings.redis_url
        #: The deployment's PostgreSQL / Redis channel; the bus's own channel names travel in
        #: the payload.
        self.channel = wire_channel(settings)
        self._redis: Any = None

    def redis(self) -> Any:
        if self._redis is None:
            import redis  # only when PSC_REDIS_URL is set

            # Short timeouts: a Redis outage delays wake-ups (the poll remains), never requests.
            self._redis = redis.Redis.from_url(
                self.redis_url, socket_connect_timeout=1, socket_timeout=1
            )
        return self._redis


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[_EXTENSION] = Transport(settings)


def transport(app: Flask) -> Transport:
    return app.extensions[_EXTENSION]


def publish(channel: str, key: str) -> None:
    """Wake the waiters of ``(channel, key)`` on every instance once the current transaction
    of ``db.session`` commits."""
    session = db.session()
    session.connection()  # in a transaction, so that a rollback drops the message too
    carrier = transport(current_app)
    redis_client = carrier.redis() if carrier.redis_url else None
    if redis_client is None and session.get_bind().dialect.name == "postgresql":
        # NOTIFY is transactional: PostgreSQL sends it at the commit, or never.
        session.execute(select(func.pg_notify(carrier.channel, encode(channel, key))))
    session.info.setdefault(_PENDING, []).append((channel, key, redis_client, carrier.channel))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for channel, key, redis_client, wire in session.info.pop(_PENDING, ()):
        HUB.deliver(channel, key)  # this process's waiters, without a round trip
        if redis_client is not None:
            try:
                redis_client.publish(wire, encode(channel, key))
            except Exception as error:  # the poll still sees the change; never fail the request
                log.warning("wake-up not published to Redis: %s", error)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
