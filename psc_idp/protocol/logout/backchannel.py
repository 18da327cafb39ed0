"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when an SSO session ends, every
client that received tokens in it and registered a ``backchannel_logout_uri`` is sent a logout
token, ``POST logout_token=…`` (§2.5), and its answer 200 (or 204) settles it (§2.8).

``enqueue`` writes one ``LogoutDelivery`` per client in the transaction that ends the session,
so the browser's logout never waits for a client. ``deliver_due`` sends them; each
``psc-idp serve`` worker runs it in a background round, woken at once by the commit of a logout
on any instance (psc_idp/bus). Several may run it: a delivery is claimed atomically first (a
compare-and-set on its due time, as the CIBA pings), and a failure is retried after 1, 2, 4…
seconds until ``PSC_LOGOUT_DELIVERY_ATTEMPTS`` are spent."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from flask import Flask, current_app
from sqlalchemy import select, update

from psc_idp import bus
from psc_idp.bus.hub import ANY
from psc_idp.bus.rounds import start_rounds
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.protocol.claims import subject_for
from psc_idp.protocol.logout.models import LogoutDelivery
from psc_idp.protocol.models import Client, Grant
from psc_idp.timeutil import epoch, now

log = logging.getLogger(__name__)
#: The bus channel a logout is announced on (the key: the session id).
LOGOUT_CHANNEL = "logout"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: §2.4's explicit type, so that a logout token is never taken for an ID token.
TOKEN_TYPE = "logout+jwt"
#: A logout token is valid for two minutes, as PSC's ID tokens.
TOKEN_LIFETIME = 120
#: A claimed delivery is no other worker's for this long, and twice the HTTP timeout at least.
LEASE = timedelta(seconds=60)
#: Answers that settle a delivery: §2.8 says 200; 204 is what many frameworks send.
DELIVERED = frozenset({200, 204})


def enqueue(sid: str) -> int:
    """Owe a logout token to each client with a ``backchannel_logout_uri`` that got tokens in
    the session ``sid``; staged in the caller's transaction. How many are owed."""
    rows = db.session.execute(
        select(Client, Grant.national_id)
        .join(Grant, Grant.client_id == Client.client_id)
        .where(Grant.sid == sid, Client.backchannel_logout_uri.is_not(None))
        .order_by(Client.client_id)
    ).all()
    settings = current_settings()
    owed: dict[str, str | None] = {}
    for client, national_id in rows:  # one token per client, with a sub if any grant has one
        if owed.get(client.client_id) is None:
            owed[client.client_id] = (
                subject_for(settings, client, national_id) if national_id else None
            )
    moment = now()
    for client_id, sub in owed.items():
        db.session.add(
            LogoutDelivery(
                client_id=client_id,
                sid=sid,
                sub=sub,
                jti=str(uuid.uuid4()),
                created_at=moment,
                next_attempt_at=moment,
            )
        )
    if owed:
        bus.publish(LOGOUT_CHANNEL, sid)  # a worker sends them once the logout commits
    return len(owed)


def logout_token(client: Client, delivery: LogoutDelivery) -> str:
    """§2.4: signed as the client's ID tokens, with ``sid`` (this OP always has one), ``sub``
    when known, the back-channel event, and no ``nonce``."""
    settings = current_settings()
    issued = epoch()
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": client.client_id,
        "iat": issued,
        "exp": issued + TOKEN_LIFETIME,
        "jti": delivery.jti,
        "sid": delivery.sid,
        "events": {EVENT: {}},
    }
    if delivery.sub:
        claims["sub"] = delivery.sub
    alg = client.id_token_signed_response_alg or settings.default_signing_alg
    key = current_app.extensions["psc_signing_keys"].active(alg)
    return jwt.encode(
        claims, key.private_key, algorithm=alg, headers={"kid": key.kid, "typ": TOKEN_TYPE}
    )


# --- delivery ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    """A delivery as seen when it was found due: the claim needs both values unchanged."""

    id: int
    next_attempt_at: datetime


def due(limit: int = 20) -> list[Due]:
    rows = db.session.execute(
        select(LogoutDelivery.id, LogoutDelivery.next_attempt_at)
        .where(
            LogoutDelivery.delivered_at.is_(None),
            LogoutDelivery.next_attempt_at <= now(),
            LogoutDelivery.attempts < current_settings().logout_delivery_attempts,
        )
        .order_by(LogoutDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    db.session.commit()
    return [Due(row.id, row.next_attempt_at) for row in rows]


def claim(seen: Due) -> bool:
    """Take the delivery for a lease: only one of the workers that saw it due wins."""
    won = db.session.execute(
        update(LogoutDelivery)
        .where(
            LogoutDelivery.id == seen.id,
            LogoutDelivery.next_attempt_at == seen.next_attempt_at,
            LogoutDelivery.delivered_at.is_(None),
        )
        .values(next_attempt_at=now() + _lease(), attempts=LogoutDelivery.attempts + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    return won == 1


def _lease() -> timedelta:
    return max(LEASE, timedelta(seconds=2 * current_settings().logout_delivery_timeout))


def deliver_due(limit: int = 20) -> int:
    """Send the logout tokens that are due; how many were delivered."""
    return sum(deliver(seen) for seen in due(limit))


def deliver(seen: Due) -> bool:
    """Claim the delivery, then send it; whether this call delivered it."""
    return claim(seen) and _attempt(seen.id)


def _attempt(delivery_id: int) -> bool:
    delivery = db.session.get(LogoutDelivery, delivery_id, populate_existing=True)
    client = db.session.get(Client, delivery.client_id) if delivery else None
    if delivery is None or client is None or not client.backchannel_logout_uri:
        if delivery is not None:  # the client withdrew its URI: nothing left to deliver
            delivery.next_attempt_at, delivery.last_error = None, "no backchannel_logout_uri"
        db.session.commit()
        return False
    uri, token = client.backchannel_logout_uri, logout_token(client, delivery)
    db.session.commit()  # no transaction stays open during the call
    error = post_logout_token(uri, token, current_settings().logout_delivery_timeout)
    delivery = db.session.get(LogoutDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return False
    if error is None:
        delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = now(), None, None
    else:
        log.info("back-channel logout to %s failed: %s", uri, error)
        delivery.last_error = error[:500]
        delivery.next_attempt_at = _next_attempt(delivery.attempts)
    db.session.commit()
    return error is None


def _next_attempt(attempts: int) -> datetime | None:
    """After the n-th failed attempt, wait 2^(n-1) s; None once the attempts are spent."""
    if attempts >= current_settings().logout_delivery_attempts:
        return None
    return now() + timedelta(seconds=2 ** (attempts - 1))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a place to post the token to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_logout_token(uri: str, token: str, timeout: float) -> str | None:
    """POST the token to the client; None when it answered 200/204, else why not."""
    body = urllib.parse.urlencode({"logout_token": token}).encode()
    call = urllib.request.Request(
        uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with _OPENER.open(call, timeout=timeout) as response:  # noqa: S310 (registered URI)
            status = response.status
    except urllib.error.HTTPError as answer:
        status = answer.code
        answer.close()
    except (OSError, ValueError) as failure:
        return f"{type(failure).__name__}: {failure}"
    return None if status in DELIVERED else f"HTTP {status}"


def start_deliveries(
    app: Flask, period: float = 1.0, stop: threading.Event | None = None
) -> threading.Thread:
    """This worker's round of logout deliveries, woken by every logout's commit."""
    return start_rounds(app, "logout-delivery", deliver_due, ((LOGOUT_CHANNEL, ANY),), period, stop)
