"""Wake-ups between instances: a party waiting for a change (a phone's long poll, the CIBA ping
round) sleeps on a subscription and is woken as soon as the change is committed, on whichever
instance it happened.

A message is a channel name and a key (an id, or a keyed hash of one), never a secret and never
state: the state stays in the database and the woken party reads it there. Every wait keeps a
short database poll (``PSC_WAKE_POLL_INTERVAL``) as its safety net, so a lost message only
delays.

Transports (``publish.py``): Redis pub/sub when ``PSC_REDIS_URL`` is set, else PostgreSQL
LISTEN/NOTIFY on PostgreSQL, else none (SQLite: the other processes see the state at their next
poll), on the deployment's own channel (``channel.py``). Whatever the transport, a message also
wakes this process's waiters right after the commit, so a lone instance needs no listener."""

from psc_idp.bus.hub import Subscription, subscribe
from psc_idp.bus.listener import start_listener
from psc_idp.bus.publish import init_app, publish

__all__ = ["Subscription", "init_app", "publish", "start_listener", "subscribe"]
