"""Push requests: sent to every active device of a professional, decided once.

A decision is an ES256 JWS by the device over the request id, the decision, the binding message
and a timestamp (``iat``), with a ``jti`` accepted once; approving also needs the PIN, and three
wrong PINs lock the device. Expiry and realm scenarios are applied when a request is read, so
no background worker is needed and any instance sees the same state: ``state`` only reads;
``settle`` writes what a scenario decided, where a request is answered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from psc_idp import audit, bus, lockout
from psc_idp.atomic import claim
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.binding import binding_code  # noqa: F401 (the means' name for it)
from psc_idp.login.wake import login_advanced
from psc_idp.means.ecps import devices as device_status
from psc_idp.means.ecps import jose
from psc_idp.means.ecps.errors import EcpsError
from psc_idp.means.ecps.models import (
    DeviceStatus,
    EcpsDevice,
    EcpsPush,
    EcpsPushGate,
    EcpsScenario,
    PushStatus,
)
from psc_idp.means.ecps.pin import verify_pin
from psc_idp.observe.metrics import observe_push_answer
from psc_idp.prepared_sql import PreparedRead, PreparedWrite, insert_new
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch, iso_utc, now

DECISION_TYP = "ecps-decision+jwt"
DECISIONS = {"approve": PushStatus.APPROVED, "deny": PushStatus.DENIED}


@dataclass(frozen=True)
class DeviceSummary:
    active: int
    locked: int


def devices_of(national_id: str) -> DeviceSummary:
    statuses = db.session.scalars(
        select(EcpsDevice.status).where(EcpsDevice.national_id == national_id)
    ).all()
    return DeviceSummary(statuses.count(DeviceStatus.ACTIVE), statuses.count(DeviceStatus.LOCKED))


_SCENARIO = PreparedRead(
    select(EcpsScenario.action, EcpsScenario.delay_seconds).where(
        EcpsScenario.national_id == bindparam("national_id")
    )
)


def scenario_of(national_id: str) -> Any:
    """The professional's realm scenario (``action``, ``delay_seconds``), read-only; None."""
    return _SCENARIO.first(db.session.connection(), national_id=national_id)


class Reach(StrEnum):
    REACHABLE = "reachable"
    LOCKED = "locked"
    NONE = "none"


def reach(national_id: str) -> Reach:
    """Whether a push can get an answer: an active device, or a realm scenario; else the
    e-CPS is locked (wrong PINs) or there is none."""
    if scenario_of(national_id) is not None:
        return Reach.REACHABLE
    devices = devices_of(national_id)
    if devices.active:
        return Reach.REACHABLE
    return Reach.LOCKED if devices.locked else Reach.NONE


def create_push(
    national_id: str,
    kind: str,
    client_id: str = "",
    client_name: str = "",
    binding_message: str = "",
    subject_ref: str | None = None,
    lifetime: int | None = None,
) -> EcpsPush:
    lifetime = lifetime or current_settings().ecps_request_lifetime
    push = EcpsPush(
        id=str(uuid.uuid4()),
        national_id=national_id,
        kind=kind,
        client_id=client_id,
        client_name=client_name,
        binding_message=binding_message,
        subject_ref=subject_ref,
        expires_at=now() + timedelta(seconds=lifetime),
    )
    scenario = scenario_of(national_id)
    if scenario is not None and scenario.action in DECISIONS:
        push.auto_decision = DECISIONS[scenario.action]
        push.auto_decide_at = now() + timedelta(seconds=scenario.delay_seconds)
    insert_new(push, db.session)  # its INSERT at once: the gate is held meanwhile
    audit.record("push_sent", national_id, kind=kind, client=client_name, request=push.id)
    pending_changed(national_id)
    return push


#: The bus channel of a professional's pending pushes (keyed by ``wake_key``).
PENDING_CHANNEL = "ecps"


def wake_key(national_id: str) -> str:
    """The professional's key on the bus: a keyed hash, so that no national id travels."""
    secret = current_app.extensions["psc_app_secret"]
    return secret.keyed_hash(national_id, "ecps-wake")[:32]


def pending_changed(national_id: str) -> None:
    """Wake the professional's phones' long polls, on any instance, at the commit."""
    bus.publish(PENDING_CHANNEL, wake_key(national_id))


class TooManyPendingPushes(EcpsError):
    def __init__(self, cap: int):
        super().__init__(
            "too_many_requests",
            f"{cap} demandes attendent déjà une réponse sur l'e-CPS de ce professionnel.",
            429,
        )
        self.cap = cap


def send_push(
    national_id: str,
    kind: str,
    subject_ref: str,
    replace: bool = False,
    **fields: Any,
) -> EcpsPush:
    """A push within the professional's cap of pending pushes (approval fatigue).

    With ``replace``, the pending push of the same ``subject_ref`` (a login transaction) is
    cancelled first: one live push per login. The caller ends the transaction (which
    releases the gate), by committing the push or after ``TooManyPendingPushes``."""
    _enter_gate(national_id)
    if replace:
        db.session.execute(
            update(EcpsPush)
            .where(
                EcpsPush.subject_ref == subject_ref,
                EcpsPush.kind == kind,
                EcpsPush.status == PushStatus.PENDING,
            )
            .values(status=PushStatus.CANCELLED, decided_at=now()),
            execution_options={"synchronize_session": False},
        )
    cap = current_settings().ecps_max_pending_pushes
    if cap > 0 and live_pending_count(national_id) >= cap:
        audit.record("push_refused", national_id, kind=kind, pending=cap)
        raise TooManyPendingPushes(cap)
    return create_push(national_id, kind, subject_ref=subject_ref, **fields)


def _enter_gate(national_id: str) -> None:
    """Write the professional's gate row first: concurrent senders wait here until the
    first commits (PostgreSQL: row lock; SQLite: the database write lock), so counting the
    pending pushes and adding one are never interleaved."""
    connection = db.session.connection()
    _gate_upsert(connection.dialect.name).execute(connection, national_id=national_id, moment=now())


_GATE_UPSERTS: dict[str, PreparedWrite] = {}


def _gate_upsert(dialect: str) -> PreparedWrite:
    """The gate's upsert, prepared once per dialect (built per push, it cost more than it ran)."""
    if dialect not in _GATE_UPSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        moment = bindparam("moment", type_=EcpsPushGate.last_push_at.type)
        _GATE_UPSERTS[dialect] = PreparedWrite(
            insert(EcpsPushGate)
            .values(national_id=bindparam("national_id"), last_push_at=moment)
            .on_conflict_do_update(index_elements=["national_id"], set_={"last_push_at": moment})
        )
    return _GATE_UPSERTS[dialect]


_MOMENT = bindparam("moment", type_=EcpsPush.expires_at.type)
_SCENARIO_DECIDED = (EcpsPush.auto_decide_at <= _MOMENT) & (
    EcpsPush.auto_decide_at <= EcpsPush.expires_at
)
_LIVE_PENDING = PreparedRead(
    select(func.count().label("pending")).where(
        EcpsPush.national_id == bindparam("national_id"),
        EcpsPush.status == PushStatus.PENDING,
        EcpsPush.expires_at > _MOMENT,
        or_(EcpsPush.auto_decide_at.is_(None), ~_SCENARIO_DECIDED),
    )
)


def live_pending_count(national_id: str) -> int:
    """Pushes still waiting for the professional, as ``state`` would say (in one query)."""
    row = _LIVE_PENDING.first(db.session.connection(), national_id=national_id, moment=now())
    return row.pending if row is not None else 0


def _scenario_due(push: EcpsPush) -> bool:
    """A scenario decides when it says, unless its delay outlives the request (it expires)."""
    due = push.auto_decide_at
    return (
        push.status == PushStatus.PENDING
        and due is not None
        and due <= now()
        and (due <= push.expires_at)
    )


def state(push: EcpsPush) -> PushStatus:
    """``pending``, ``approved``, ``denied``, ``cancelled`` or ``expired``, scenarios applied;
    reads only (``settle`` writes a scenario's decision)."""
    if _scenario_due(push):
        return PushStatus(push.auto_decision or PushStatus.DENIED)
    if push.status == PushStatus.PENDING and push.expires_at <= now():
        return PushStatus.EXPIRED
    return PushStatus(push.status)


def decided_at(push: EcpsPush) -> datetime | None:
    """When the push was decided: by a device, or when its scenario said."""
    return push.auto_decide_at if _scenario_due(push) else push.decided_at


def settle(push: EcpsPush) -> None:
    """Write what a due scenario decided (the owner's write; the caller commits)."""
    if _scenario_due(push):
        decision = push.auto_decision or PushStatus.DENIED
        _set_status(push, decision, None, decided_at=push.auto_decide_at)


def _set_status(
    push: EcpsPush, status: str, device_id: str | None, decided_at: datetime | None = None
) -> bool:
    """Pending → ``status`` atomically: of two deciders, only one wins."""
    values = {"decided_at": decided_at or now(), "device_id": device_id}
    won = claim(EcpsPush, push.id, PushStatus.PENDING, status, **values)
    if won:
        pending_changed(push.national_id)
        if push.subject_ref:
            login_advanced(push.subject_ref)
    db.session.commit()
    db.session.refresh(push)
    return won


def pending_for(national_id: str) -> list[EcpsPush]:
    """Newest first: the request just sent is the one the professional is looking for."""
    query = (
        select(EcpsPush)
        .where(EcpsPush.national_id == national_id, EcpsPush.status == PushStatus.PENDING)
        .order_by(EcpsPush.created_at.desc())
    )
    return [push for push in db.session.scalars(query) if state(push) == PushStatus.PENDING]


def closed_among(national_id: str, push_ids: list[str]) -> list[dict[str, str]]:
    """``{id, status}`` of those of ``push_ids`` that belong to ``national_id``."""
    if not push_ids:
        return []
    query = select(EcpsPush).where(
        EcpsPush.national_id == national_id, EcpsPush.id.in_([i[:64] for i in push_ids])
    )
    return [{"id": push.id, "status": state(push)} for push in db.session.scalars(query)]


def cancel(push: EcpsPush) -> None:
    _set_status(push, PushStatus.CANCELLED, device_id=None)


def describe(push: EcpsPush) -> dict[str, Any]:
    remaining = max(0, int((push.expires_at - now()).total_seconds()))
    return {
        "id": push.id,
        "kind": push.kind,
        "client_name": push.client_name,
        "binding_message": push.binding_message,
        "created_at": iso_utc(push.created_at),
        "expires_at": iso_utc(push.expires_at),
        "expires_in": remaining,
        "status": state(push),
    }


# --- a device decides ------------------------------------------------------------------------
def decide(device: EcpsDevice, push_id: str, token: str) -> str:
    """Apply a device's signed decision; returns the new status or raises ``EcpsError``."""
    push = db.session.get(EcpsPush, str(push_id)[:64])
    if push is None or push.national_id != device.national_id:
        raise EcpsError("unknown_request", "Demande inconnue.", 404)
    claims = _verified_decision(device, push, token)
    current = state(push)
    if current != PushStatus.PENDING:
        raise EcpsError("request_closed", f"Cette demande n'est plus en attente ({current}).", 409)
    decision = claims["decision"]
    if decision == "approve":
        _check_pin(device, str(claims.get("pin", "")))
    status = DECISIONS[decision]
    if not _set_status(push, status, device.id):
        raise EcpsError("request_closed", "Cette demande a déjà été traitée.", 409)
    device.last_used_at = now()
    audit.record(f"push_{status}", device.national_id, device.id, outcome=status, request=push.id)
    db.session.commit()
    observe_push_answer((now() - push.created_at).total_seconds(), status)
    return status


def _verified_decision(device: EcpsDevice, push: EcpsPush, token: str) -> dict[str, Any]:
    try:
        claims = jose.verify(token, device.public_jwk, DECISION_TYP)
    except jose.BadSignature as error:
        raise EcpsError(
            "invalid_signature", "Décision non signée par cet appareil.", 401
        ) from error
    if claims.get("request_id") != push.id or claims.get("decision") not in DECISIONS:
        raise EcpsError("invalid_decision", "La décision ne porte pas sur cette demande.")
    if claims.get("binding_message", "") != push.binding_message:
        raise EcpsError("invalid_decision", "Le code de liaison ne correspond pas.")
    if abs(int(claims["iat"]) - epoch()) > 120:
        raise EcpsError("invalid_decision", "Décision trop ancienne ou datée dans le futur.")
    if not accept_once(f"decision\0{device.id}\0{claims['jti']}", claims["iat"] + 300):
        raise EcpsError("replayed_decision", "Cette décision a déjà été reçue.", 409)
    return claims


def _check_pin(device: EcpsDevice, pin: str) -> None:
    """Count the attempt first, atomically, then check: of any number of parallel guesses,
    at most ``ecps_max_pin_failures`` are ever compared with the PIN."""
    limit = current_settings().ecps_max_pin_failures
    failures = db.session.execute(
        update(EcpsDevice)
        .where(
            EcpsDevice.id == device.id,
            EcpsDevice.status == DeviceStatus.ACTIVE,
            EcpsDevice.pin_failures < limit,
        )
        .values(pin_failures=EcpsDevice.pin_failures + 1)
        .returning(EcpsDevice.pin_failures),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    db.session.commit()  # the attempt stays counted whatever happens next
    if failures is None:
        raise _locked()
    # A professional locked out (psc_idp.lockout) gets the answer of a wrong PIN, whatever the
    # PIN: the lockout gives a guesser nothing to learn.
    locked_out = lockout.is_locked(lockout.PROFESSIONAL, device.national_id)
    if not locked_out and verify_pin(pin, device.pin_hash):
        _reset_failures(device)
        return
    lockout.fail(lockout.PROFESSIONAL, device.national_id, "pin")
    audit.record("wrong_pin", device.national_id, device.id, failures=failures)
    if failures >= limit:
        device_status.lock(device)
        db.session.commit()
        raise _locked()
    db.session.commit()
    raise EcpsError("invalid_pin", "Code PIN erroné.", 403, attempts_left=limit - failures)


def _reset_failures(device: EcpsDevice) -> None:
    db.session.execute(
        update(EcpsDevice).where(EcpsDevice.id == device.id).values(pin_failures=0),
        execution_options={"synchronize_session": False},
    )


def _locked() -> EcpsError:
    return EcpsError(
        "device_locked",
        "Code PIN erroné trop de fois : cette e-CPS est verrouillée. Réactivez-la.",
        423,
    )
