"""Ping mode (CIBA Core §10.2): when a request ends (approved, denied or expired), the client's
notification endpoint receives ``POST {"auth_req_id": …}`` with its ``client_notification_token``
as bearer; it then fetches the result at the token endpoint.

``deliver_due`` does the work; each ``psc-idp serve`` worker runs it every second in a
background thread. Several instances may run it: a delivery is claimed atomically first, and
retried with bounded backoff (after 1, 2, 4 and 8 s: five attempts) if the client does not
answer 2xx.

The client's bearer and the ``auth_req_id`` must be sent back as given, so they cannot be
hashed: they are stored sealed (``AppSecret.seal``) and opened only to send the ping."""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from psc_idp.bus.hub import ANY
from psc_idp.bus.rounds import start_rounds
from psc_idp.extensions import db
from psc_idp.keystore.secret import SEALED_PREFIX
from psc_idp.login.wake import LOGIN_CHANNEL
from psc_idp.protocol.ciba import approval
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.models import Client
from psc_idp.timeutil import now

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=30)
TOKEN_PURPOSE = "ciba-notification-token"
AUTH_REQ_ID_PURPOSE = "ciba-ping-auth-req-id"


def sealed(value: str | None, purpose: str) -> str | None:
    """``value`` as stored at rest (None stays None)."""
    if value is None:
        return None
    return current_app.extensions["psc_app_secret"].seal(value, purpose)


def _opened(stored: str, purpose: str) -> str:
    if not stored.startswith(SEALED_PREFIX):
        return stored  # stored before sealing (requests live two minutes)
    return current_app.extensions["psc_app_secret"].unseal(stored, purpose)


def deliver_due(limit: int = 20) -> int:
    """Settle ping requests (push outcomes, expiry) and send the notifications that are due;
    returns how many were delivered."""
    _settle_pending()
    delivered = 0
    for request in _due(limit):
        if _claim(request) and _send(request):
            delivered += 1
    return delivered


def _settle_pending() -> None:
    query = select(CibaRequest).where(
        CibaRequest.ping_auth_req_id.is_not(None),
        CibaRequest.status == approval.CibaStatus.PENDING,
    )
    for request in db.session.scalars(query):
        approval.settle(request)
        if approval.state(request) == approval.CibaStatus.EXPIRED:
            # Expiry is an end too: tell the client, whose poll will read expired_token.
            request.next_notify_at = request.next_notify_at or now()
    db.session.commit()


def _due(limit: int) -> list[CibaRequest]:
    query = (
        select(CibaRequest)
        .where(
            CibaRequest.ping_auth_req_id.is_not(None),
            CibaRequest.notified_at.is_(None),
            CibaRequest.notify_attempts < MAX_ATTEMPTS,
            CibaRequest.next_notify_at <= now(),
            or_(CibaRequest.status != approval.CibaStatus.PENDING, CibaRequest.expires_at <= now()),
        )
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _claim(request: CibaRequest) -> bool:
    """Take the delivery for a while, so that another worker does not send it too."""
    won = db.session.execute(
        update(CibaRequest)
        .where(CibaRequest.id == request.id, CibaRequest.next_notify_at == request.next_notify_at)
        .values(next_notify_at=now() + LEASE, notify_attempts=CibaRequest.notify_attempts + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    db.session.refresh(request)
    return won == 1


def _send(request: CibaRequest) -> bool:
    client = db.session.get(Client, request.client_id)
    endpoint = client.backchannel_client_notification_endpoint if client else None
    ok = False
    if endpoint:
        auth_req_id = _opened(request.ping_auth_req_id, AUTH_REQ_ID_PURPOSE)
        body = json.dumps({"auth_req_id": auth_req_id}).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {_opened(request.notification_token, TOKEN_PURPOSE)}",
        }
        try:
            call = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(call, timeout=5) as response:  # noqa: S310 (registered)
                ok = 200 <= response.status < 300
        except OSError as error:
            log.info("CIBA ping to %s failed: %s", endpoint, error)
    if ok:
        request.notified_at = now()
    else:
        request.next_notify_at = now() + timedelta(seconds=2 ** (request.notify_attempts - 1))
    db.session.commit()
    return ok


def start_notifier(
    app: Flask, period: float = 1.0, stop: threading.Event | None = None
) -> threading.Thread:
    """The background loop of one worker (until ``stop`` is set, then woken)."""
    # Woken when a login ends or a request is decided on any instance (psc_idp/bus): the
    # ping leaves at once; ``period`` is the safety net of a lost wake-up and of expiry.
    topics = ((LOGIN_CHANNEL, ANY), (approval.CIBA_CHANNEL, ANY))
    return start_rounds(app, "ciba-ping", deliver_due, topics, period, stop)
