"""Where a CIBA request stands. Its login runs without a browser (``login.headless``): the
means of its channel starts it and says how it ended, ``login/`` records the outcome as for any
login. ``settle`` follows that login and flips the request from ``pending`` once, atomically;
``state`` only reads."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from psc_idp import bus
from psc_idp.atomic import claim
from psc_idp.extensions import db
from psc_idp.login import headless
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.observe.metrics import count_ciba
from psc_idp.prepared_sql import PreparedWrite
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.timeutil import epoch, now

_CIBA = CibaRequest.__table__
#: The bus channel of decided CIBA requests (keyed by the request's id).
CIBA_CHANNEL = "ciba"


class CibaStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    ISSUED = "issued"
    #: Never stored: a pending request past its ``expires_at``.
    EXPIRED = "expired"


def settle(request: CibaRequest) -> None:
    """Follow the request's login; pending → approved or denied when it ended. The owner's
    write, called where a poll or a ping round is answered."""
    if request.status != CibaStatus.PENDING:
        return
    login = headless.settle(request.id)
    if login is None:
        return
    if login.status == LoginStatus.AUTHENTICATED:
        decide(request, CibaStatus.APPROVED, auth_time=login.auth_time)
    elif login.status in (LoginStatus.FAILED, LoginStatus.CANCELLED):
        decide(request, CibaStatus.DENIED)


def state(request: CibaRequest) -> CibaStatus:
    """``pending``, ``approved``, ``denied``, ``expired`` or ``issued``, as stored (no write)."""
    if request.status == CibaStatus.PENDING and request.expires_at <= now():
        return CibaStatus.EXPIRED
    return CibaStatus(request.status)


def login_of(request: CibaRequest) -> LoginTransaction | None:
    """The recorded login: who, how (``authMode``, ``acr``), when, and its session."""
    return db.session.get(LoginTransaction, request.id)


def decide(request: CibaRequest, outcome: CibaStatus, auth_time: int | None = None) -> bool:
    """pending → ``outcome``; True if this call made the change. A ping client is then due a
    notification."""
    values = {"decided_at": now(), "auth_time": auth_time or epoch()}
    if request.notification_token:
        values["next_notify_at"] = now()
    won = claim(CibaRequest, request.id, CibaStatus.PENDING, outcome, **values)
    if won:
        bus.publish(CIBA_CHANNEL, request.id)  # the ping round delivers at once
    db.session.commit()
    db.session.refresh(request)
    if won:
        count_ciba(str(outcome))
    return won


def mark_issued(request: CibaRequest) -> bool:
    """approved → issued, once: of two concurrent polls only one gets the tokens."""
    return claim(CibaRequest, request.id, CibaStatus.APPROVED, CibaStatus.ISSUED)


def too_soon(request: CibaRequest) -> bool:
    """A poll sooner than the request's interval after the last one (CIBA §11: slow_down)."""
    return (
        request.last_poll_at is not None
        and request.last_poll_at + timedelta(seconds=request.interval) > now()
    )


_POLLED = PreparedWrite(
    update(_CIBA).where(_CIBA.c.id == bindparam("request_id")).values(last_poll_at=bindparam("at"))
)
_SLOWED = PreparedWrite(
    update(_CIBA)
    .where(_CIBA.c.id == bindparam("request_id"))
    .values(last_poll_at=bindparam("at"), interval=bindparam("new_interval"))
)


def record_poll(request: CibaRequest, slowed: bool = False) -> None:
    """Count a poll, committed at once; ``slowed`` (a poll too soon) lengthens the interval."""
    moment = now()
    connection = db.session.connection()
    if slowed:
        interval = request.interval + 5  # CIBA §11: slow_down adds 5 s
        _SLOWED.execute(connection, request_id=request.id, at=moment, new_interval=interval)
        set_committed_value(request, "interval", interval)
    else:
        _POLLED.execute(connection, request_id=request.id, at=moment)
    # The loaded request takes the value as already saved (no flush of the unit of work).
    set_committed_value(request, "last_poll_at", moment)
    db.session.commit()
