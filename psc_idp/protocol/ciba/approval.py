"""Where a CIBA request stands, and the professional's decision on it.

MOBILE requests follow their e-CPS push (approved on a phone, by the CLI device or by a realm
scenario); CARD requests are decided by a JWS signed with the card's key (CPS-Gestion, or the
wallet page reached with the card). Every change from ``pending`` is atomic."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from psc_idp.extensions import db
from psc_idp.means.ecps import pushes
from psc_idp.means.ecps.models import EcpsPush
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.timeutil import epoch, now, to_epoch

PUSH_OUTCOMES = {"approved": "approved", "denied": "denied", "cancelled": "denied"}


def state(request: CibaRequest) -> str:
    """``pending``, ``approved``, ``denied``, ``expired`` or ``issued``."""
    if request.status == "pending" and request.channel == "MOBILE" and request.push_id:
        push = db.session.get(EcpsPush, request.push_id)
        outcome = PUSH_OUTCOMES.get(pushes.state(push)) if push is not None else None
        if outcome is not None:
            decided = push.decided_at or now()
            decide(request, outcome, auth_time=to_epoch(decided))
    if request.status == "pending" and request.expires_at <= now():
        return "expired"
    return request.status


def decide(request: CibaRequest, outcome: str, auth_time: int | None = None) -> bool:
    """pending → ``outcome``; True if this call made the change. A ping client is then due a
    notification."""
    values = {"status": outcome, "decided_at": now(), "auth_time": auth_time or epoch()}
    if request.notification_token:
        values["next_notify_at"] = now()
    won = db.session.execute(
        update(CibaRequest)
        .where(CibaRequest.id == request.id, CibaRequest.status == "pending")
        .values(**values),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    db.session.refresh(request)
    return won == 1


def mark_issued(request: CibaRequest) -> bool:
    """approved → issued, once: of two concurrent polls only one gets the tokens."""
    won = db.session.execute(
        update(CibaRequest)
        .where(CibaRequest.id == request.id, CibaRequest.status == "approved")
        .values(status="issued"),
        execution_options={"synchronize_session": False},
    ).rowcount
    return won == 1


def record_poll(request: CibaRequest) -> bool:
    """Count a poll; False (and a longer interval) if it came sooner than the interval."""
    moment = now()
    too_soon = (
        request.last_poll_at is not None
        and request.last_poll_at + timedelta(seconds=request.interval) > moment
    )
    request.last_poll_at = moment
    if too_soon:
        request.interval += 5  # CIBA §11: slow_down increases the interval by 5 s
    db.session.commit()
    return not too_soon


def pending_card_requests(national_id: str) -> list[CibaRequest]:
    query = (
        select(CibaRequest)
        .where(
            CibaRequest.national_id == national_id,
            CibaRequest.channel == "CARD",
            CibaRequest.status == "pending",
        )
        .order_by(CibaRequest.created_at)
    )
    return [r for r in db.session.scalars(query) if state(r) == "pending"]
