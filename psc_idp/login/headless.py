"""A login without a browser (CIBA): a login transaction that no browser holds.

The means that serves the request's channel starts it (sends the push) and later says how it
ended; the outcome is recorded here exactly as a browser login's (``flow``: acr guard, active
professional, SSO session). The protocol knows the means only through this module, which reads
the registry the means put in ``app.extensions`` (``REGISTRY``) without importing them."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import bindparam, select

from psc_idp.extensions import db
from psc_idp.login.flow import accept_headless_login, fail_headless_login
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.login.results import AuthResult, AuthStatus
from psc_idp.login.wake import login_advanced
from psc_idp.prepared_load import PreparedLoad
from psc_idp.prepared_sql import insert_new
from psc_idp.timeutil import now

#: Where the means are registered (``psc_idp.means.registry``), by id, in la mire's order.
REGISTRY = "psc_authenticators"


class HeadlessRefused(Exception):
    """The means cannot reach the professional: ``description`` for the client (English),
    ``status`` of the answer (400, or 403 for an approval-fatigue cap)."""

    def __init__(self, description: str, status: int = 400):
        super().__init__(description)
        self.description = description
        self.status = status


class HeadlessMeans(Protocol):
    """What ``login/`` needs of a means to run a login without a browser."""

    id: str
    channels: tuple[str, ...]
    default_channel: bool

    def headless_acr(self) -> str: ...
    def check_headless(self, national_id: str) -> None: ...
    def start_headless(self, tx: LoginTransaction) -> str | None: ...
    def headless_result(self, tx: LoginTransaction) -> AuthResult: ...


def _means() -> list[HeadlessMeans]:
    """The means that serve channels, the default one first. A means serves its channels even
    when la mire does not offer it (the card signs its CIBA decisions without TLS here)."""
    registered = [m for m in current_app.extensions.get(REGISTRY, {}).values() if m.channels]
    return sorted(registered, key=lambda means: not means.default_channel)


def served_channels() -> list[str]:
    """Every channel some means serves, the default first."""
    return [channel for means in _means() for channel in means.channels]


def default_channel() -> str:
    """The channel of a request that names none (PSC: the e-CPS's)."""
    served = served_channels()
    return served[0] if served else ""


def means_for(channel: str) -> HeadlessMeans | None:
    return next((m for m in _means() if channel in m.channels), None)


def begin(
    means: HeadlessMeans,
    *,
    login_id: str,
    channel: str,
    client_id: str,
    client_name: str,
    national_id: str,
    binding_message: str,
    acceptable_acrs: list[str],
    lifetime: int,
) -> tuple[LoginTransaction, str | None]:
    """The headless transaction, started by its means; returns it and the means's reference.
    ``HeadlessRefused`` leaves nothing of it in the session."""
    tx = LoginTransaction(
        id=login_id,
        client_id=client_id,
        client_name=client_name,
        params={"channel": channel, "binding_message": binding_message},
        browser_hash="",  # no browser cookie hashes to "": never loaded by a browser
        csrf_token=secrets.token_urlsafe(24),
        acceptable_acrs=acceptable_acrs,
        login_hint=national_id,
        status=LoginStatus.PENDING,
        failures=0,
        expires_at=now() + timedelta(seconds=lifetime),
    )
    reference = means.start_headless(tx)
    insert_new(tx, db.session)  # its row at once, not at the flush
    return tx, reference


def is_headless(tx: LoginTransaction, channel: str) -> bool:
    return tx.browser_hash == "" and (tx.params or {}).get("channel") == channel


_BY_ID = PreparedLoad(LoginTransaction, lambda t: t.c.id == bindparam("login_id"))


def settle(login_id: str) -> LoginTransaction | None:
    """Ask the means where a pending headless login stands and record its end, if it ended.
    The owner's write of a headless login's status (called where the request is answered)."""
    tx = _BY_ID.first(db.session, login_id=login_id)
    if tx is None or tx.status != LoginStatus.PENDING or tx.browser_hash != "":
        return tx
    means = means_for((tx.params or {}).get("channel", ""))
    if means is not None:
        record(tx, means.headless_result(tx))
    return tx


def record(tx: LoginTransaction, result: AuthResult) -> bool:
    """Record how a headless login ended; True if this call ended it (of two concurrent
    deciders, one wins)."""
    ended = False
    if result.status == AuthStatus.SUCCESS and result.outcome is not None:
        ended = accept_headless_login(tx, result.outcome)
    elif result.status == AuthStatus.FAILURE:
        # The channel names the means as its authMode does (the audit's and metrics' label).
        ended = fail_headless_login(tx, (tx.params or {}).get("channel", ""))
    if ended:
        login_advanced(tx.id)  # its CIBA request settles at once (the ping round wakes)
    return ended


def pending(national_id: str, channel: str) -> list[LoginTransaction]:
    """The professional's headless logins still waiting on ``channel``, oldest first."""
    query = (
        select(LoginTransaction)
        .where(
            LoginTransaction.login_hint == national_id,
            LoginTransaction.browser_hash == "",
            LoginTransaction.status == LoginStatus.PENDING,
            LoginTransaction.expires_at > now(),
        )
        .order_by(LoginTransaction.created_at)
    )
    return [tx for tx in db.session.scalars(query) if is_headless(tx, channel)]
