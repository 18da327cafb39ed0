"""A login's step may have advanced (a push decided, a card signed): the means says so on the
bus, keyed by the login's id; whoever follows logins (the CIBA ping round, a waiting page)
wakes and rereads the login from the database."""

from __future__ import annotations

from psc_idp import bus

LOGIN_CHANNEL = "login"


def login_advanced(login_id: str) -> None:
    """Wake the followers of ``login_id`` once the current transaction commits."""
    bus.publish(LOGIN_CHANNEL, login_id)
