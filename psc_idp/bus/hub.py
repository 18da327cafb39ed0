"""This process's waiters, by channel and key; the listener and local commits wake them."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

#: Subscribes to every key of a channel.
ANY = "*"


class Subscription:
    """An event set by any message on one of its (channel, key) pairs."""

    def __init__(self, topics: tuple[tuple[str, str], ...]) -> None:
        self.topics = topics
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until a message or ``timeout``; True if a message came (then re-armed)."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str], set[Subscription]] = defaultdict(set)

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            for topic in subscription.topics:
                self._waiting[topic].add(subscription)

    def remove(self, subscription: Subscription) -> None:
        with self._lock:
            for topic in subscription.topics:
                waiting = self._waiting.get(topic)
                if waiting is not None:
                    waiting.discard(subscription)
                    if not waiting:
                        del self._waiting[topic]

    def deliver(self, channel: str, key: str) -> int:
        """Wake the subscribers of ``(channel, key)`` and of the whole channel; how many."""
        with self._lock:
            woken = set(self._waiting.get((channel, key), ())) | set(
                self._waiting.get((channel, ANY), ())
            )
        for subscription in woken:
            subscription.wake()
        return len(woken)

    def wake_all(self) -> None:
        """After a gap in the transport (messages may have been lost): everyone rereads."""
        with self._lock:
            woken = {s for waiting in self._waiting.values() for s in waiting}
        for subscription in woken:
            subscription.wake()


#: One per process: the listener thread and the request threads share it.
HUB = Hub()


@contextmanager
def subscribe(*topics: tuple[str, str]) -> Iterator[Subscription]:
    """Subscribe before reading the state, so that a change committed in between still wakes
    the next wait."""
    subscription = Subscription(tuple(topics))
    HUB.add(subscription)
    try:
        yield subscription
    finally:
        HUB.remove(subscription)
