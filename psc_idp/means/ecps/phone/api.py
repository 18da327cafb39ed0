"""The device API, at ``/ecps/api/v1``: what a phone (or the simulator, or the CLI) calls.

Documented for device writers in docs/ecps.md."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from psc_idp import bus, throttle
from psc_idp.config import current_settings
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.http.address import client_address
from psc_idp.http.errors import ErrorPolicy, register_policy
from psc_idp.means.ecps import activation, pushes
from psc_idp.means.ecps.devices import revoke
from psc_idp.means.ecps.errors import EcpsError, TooManyRequests
from psc_idp.means.ecps.models import EcpsDevice, EcpsPush
from psc_idp.means.ecps.phone.device_auth import authenticate_device
from psc_idp.means.ecps.phone.long_polls import long_polls
from psc_idp.timeutil import iso_utc, now

bp = Blueprint("ecps_api", __name__, url_prefix="/ecps/api/v1")
MAX_WAIT = 25
MAX_CLOSED = 20


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise EcpsError("invalid_request", "Corps JSON attendu.")
    return body


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise EcpsError("invalid_request", f"Champ « {name} » manquant ou invalide.")
    return value


def _new_device(body: dict[str, Any]) -> dict[str, Any]:
    """What every activation sends about the new device: PIN, public key, proof, labels."""
    info = body.get("device") if isinstance(body.get("device"), dict) else {}
    return {
        "pin": _field(body, "pin"),
        "jwk": body.get("public_key"),
        "proof": _field(body, "proof"),
        "name": str(info.get("name", ""))[:100],
        "platform": str(info.get("platform", ""))[:40],
    }


def _activated(device: EcpsDevice) -> ResponseReturnValue:
    db.session.commit()
    return jsonify(device_id=device.id, national_id=device.national_id), 201


@bp.post("/activations")
def start_activation() -> ResponseReturnValue:
    body = _json_body()
    verdict = throttle.hit(
        f"ecps-activation-ip\0{client_address(request)}",
        current_settings().ecps_activations_per_ip,
        600,
    )
    if not verdict.allowed:
        raise TooManyRequests(
            "Trop d'activations demandées depuis cette adresse : réessayez plus tard.",
            verdict.retry_after,
        )
    try:
        national_id = validate_national_id(_field(body, "national_id"))
    except InvalidNationalId as error:
        raise EcpsError("invalid_national_id", str(error)) from error
    started = activation.start_contact_activation(national_id)
    db.session.commit()
    live = started.activation
    message = (
        "Si cet identifiant est connu, des codes ont déjà été envoyés au courriel et au "
        "téléphone enregistrés dans l'annuaire : utilisez-les, aucun nouveau code n'est envoyé "
        "tant que cette activation est en cours."
        if started.reused
        else "Si cet identifiant est connu, des codes ont été envoyés au courriel et au "
        "téléphone enregistrés dans l'annuaire."
    )
    return jsonify(
        activation_id=live.id,
        expires_in=int((live.expires_at - now()).total_seconds()),
        codes_already_sent=started.reused,
        message=message,
    ), (200 if started.reused else 201)


@bp.post("/activations/<activation_id>/complete")
def complete_activation(activation_id: str) -> ResponseReturnValue:
    body = _json_body()
    device = activation.complete_contact_activation(
        activation_id,
        email_code=_field(body, "email_code"),
        sms_code=_field(body, "sms_code"),
        **_new_device(body),
    )
    return _activated(device)


@bp.post("/activations/card")
def complete_card_activation() -> ResponseReturnValue:
    """Activation with a code shown on the card-authenticated page (QR code)."""
    body = _json_body()
    device = activation.complete_card_activation(
        _field(body, "activation_code"), **_new_device(body)
    )
    return _activated(device)


@bp.get("/device")
def device_info() -> ResponseReturnValue:
    device = authenticate_device(request, allow_locked=True)
    db.session.commit()
    return jsonify(_describe(device))


@bp.delete("/device")
def revoke_self() -> ResponseReturnValue:
    device = authenticate_device(request, allow_locked=True)
    revoke(device, by="device")
    db.session.commit()
    return Response(status=204)


@bp.get("/requests")
def list_requests() -> ResponseReturnValue:
    """Pending requests. With ``wait=N`` (at most 25 s) this is a long poll: it answers as soon
    as the pending set differs from ``known`` (comma-separated ids the device already shows;
    empty by default), so a device also learns at once that a request closed elsewhere."""
    device = authenticate_device(request)
    national_id, device_id = device.national_id, device.id
    db.session.commit()
    wait = min(max(request.args.get("wait", 0, type=int), 0), MAX_WAIT)
    known = {i for i in request.args.get("known", "")[:4000].split(",") if i}
    if wait == 0:
        return _pending_answer(national_id, known, pushes.pending_for(national_id))
    # Subscribed before the first read: a push committed in between still wakes the wait;
    # without a wake-up the database is reread every wake_poll_interval (a lost message).
    topic = (pushes.PENDING_CHANNEL, pushes.wake_key(national_id))
    poll_interval = current_settings().wake_poll_interval
    with long_polls().slot(device_id), bus.subscribe(topic) as wake_up:
        deadline = time.monotonic() + wait
        while True:
            pending = pushes.pending_for(national_id)
            left = deadline - time.monotonic()
            if {p.id for p in pending} != known or left <= 0:
                return _pending_answer(national_id, known, pending)
            db.session.remove()  # release the connection while waiting
            wake_up.wait(min(poll_interval, left))


def _pending_answer(
    national_id: str, known: set[str], pending: list[EcpsPush]
) -> ResponseReturnValue:
    """The pending requests, and what became of the ``known`` ones that are no longer
    pending (``cancelled`` when a newer push replaced one), so the phone can say so."""
    gone = known - {p.id for p in pending}
    return jsonify(
        requests=[pushes.describe(p) for p in pending],
        closed=pushes.closed_among(national_id, sorted(gone)[:MAX_CLOSED]),
    )


@bp.post("/requests/<push_id>/decision")
def decide(push_id: str) -> ResponseReturnValue:
    device = authenticate_device(request)
    status = pushes.decide(device, push_id, _field(_json_body(), "decision"))
    return jsonify(id=push_id, status=status)


def _describe(device: EcpsDevice) -> dict[str, Any]:
    return {
        "device_id": device.id,
        "national_id": device.national_id,
        "name": device.name,
        "platform": device.platform,
        "status": device.status,
        "pin_failures": device.pin_failures,
        "created_at": iso_utc(device.created_at),
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Devices read JSON: the app's own handlers (guard refusals, 404, 405, 500) answer JSON here.
    register_policy(app, ErrorPolicy("/ecps/api/", json=True, blueprints=("ecps_api",)))


@bp.errorhandler(EcpsError)
def ecps_error(error: EcpsError) -> Response:
    db.session.rollback()
    response = jsonify(error.as_dict())
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response
