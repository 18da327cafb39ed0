"""Activating an e-CPS device.

With contact data: the professional gives their national id; one-time codes go to the e-mail and
the phone registered in the directory; the device sends both codes, its chosen PIN and its new
public key, with a proof that it holds the private key. Whatever the national id, the first step
answers the same, so it tells nobody whether a professional exists."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from psc_idp import audit, lockout, throttle
from psc_idp.config import current_settings
from psc_idp.directory.lookup import find_practitioner
from psc_idp.extensions import db
from psc_idp.means.ecps import jose, outbox
from psc_idp.means.ecps.errors import EcpsError, TooManyRequests
from psc_idp.means.ecps.models import EcpsActivation, EcpsDevice
from psc_idp.means.ecps.pin import InvalidPin, check_format, hash_pin
from psc_idp.timeutil import now

MAX_CODE_ATTEMPTS = 5
PROOF_TYP = "ecps-activation+jwt"


def _code_hash(activation_id: str, channel: str, code: str) -> str:
    secret = current_app.extensions["psc_app_secret"]
    return secret.keyed_hash(f"{activation_id}\0{channel}\0{code}", "ecps-activation")


@dataclass(frozen=True)
class Started:
    activation: EcpsActivation
    #: True when a live activation was reused: its codes were sent already, none now.
    reused: bool


def start_contact_activation(national_id: str) -> Started:
    """A live activation for the same national id and contact is reused (no new codes);
    otherwise a new one, within ``ecps_activations_per_national_id`` per hour. Unknown ids
    take the same path, so the answers tell nobody who exists."""
    settings = current_settings()
    practitioner = find_practitioner(national_id)
    reachable = (
        practitioner is not None
        and practitioner.active
        and bool(practitioner.email)
        and bool(practitioner.phone)
    )
    contact = f"{practitioner.email}\0{practitioner.phone}" if reachable else ""
    target = _keyed(f"{national_id}\0{contact}", "ecps-activation-target")
    live = _live_activation(target)
    if live is not None:
        return Started(live, reused=True)
    verdict = throttle.hit(
        f"ecps-activation-nid\0{national_id}", settings.ecps_activations_per_national_id, 3600
    )
    if not verdict.allowed:
        raise TooManyRequests(
            "Trop d'activations demandées pour cet identifiant : réessayez plus tard.",
            verdict.retry_after,
        )
    activation = EcpsActivation(
        id=secrets.token_urlsafe(24),
        mode="contact",
        target_hash=target,
        expires_at=now() + timedelta(seconds=settings.ecps_activation_lifetime),
    )
    if reachable:
        activation.national_id = practitioner.national_id
        email_code, sms_code = _six_digits(), _six_digits()
        activation.email_code_hash = _code_hash(activation.id, "email", email_code)
        activation.sms_code_hash = _code_hash(activation.id, "sms", sms_code)
        _send_codes(practitioner, email_code, sms_code)
        audit.record("activation_started", practitioner.national_id, mode="contact")
    db.session.add(activation)
    return Started(activation, reused=False)


def _keyed(value: str, purpose: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(value, purpose)


def _live_activation(target: str) -> EcpsActivation | None:
    query = (
        select(EcpsActivation)
        .where(
            EcpsActivation.target_hash == target,
            EcpsActivation.mode == "contact",
            EcpsActivation.used_at.is_(None),
            EcpsActivation.expires_at > now(),
            EcpsActivation.attempts < MAX_CODE_ATTEMPTS,
        )
        .order_by(EcpsActivation.created_at.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def _six_digits() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _send_codes(practitioner: Any, email_code: str, sms_code: str) -> None:
    outbox.send(
        "email",
        practitioner.email,
        "Activation de votre e-CPS",
        f"Votre code d'activation e-CPS (courriel) : {email_code}\n"
        "Il est valable 10 minutes. Si vous n'avez rien demandé, ignorez ce message.",
        practitioner.national_id,
    )
    outbox.send(
        "sms",
        practitioner.phone,
        "",
        f"e-CPS : votre code d'activation est {sms_code}",
        practitioner.national_id,
    )


def complete_contact_activation(
    activation_id: str,
    email_code: str,
    sms_code: str,
    pin: str,
    jwk: dict[str, Any],
    proof: str,
    name: str = "",
    platform: str = "",
) -> EcpsDevice:
    activation_id = str(activation_id)[:64]
    attempts = _count_attempt(activation_id)
    activation = db.session.get(EcpsActivation, activation_id)
    if activation is None or activation.used_at is not None or activation.expires_at < now():
        raise EcpsError("invalid_activation", "Cette activation a expiré ou a déjà servi.", 400)
    if attempts is None:
        raise EcpsError("too_many_attempts", "Trop de codes erronés : recommencez l'activation.")
    # A professional locked out (psc_idp.lockout): the answer of wrong codes, whatever the codes.
    locked_out = activation.national_id is not None and lockout.is_locked(
        lockout.PROFESSIONAL, activation.national_id
    )
    good = (
        activation.national_id is not None
        and not locked_out
        and all(
            _code_hash(activation.id, channel, str(code)) == stored
            for channel, code, stored in (
                ("email", email_code, activation.email_code_hash),
                ("sms", sms_code, activation.sms_code_hash),
            )
        )
    )
    if not good:
        if activation.national_id is not None:
            lockout.fail(lockout.PROFESSIONAL, activation.national_id, "activation_code")
        left = MAX_CODE_ATTEMPTS - attempts
        raise EcpsError(
            "invalid_code", "Code de courriel ou de SMS erroné.", 400, attempts_left=left
        )
    _check_proof(proof, jwk, activation.id)
    _mark_used(activation.id)
    return register_device(activation.national_id, pin, jwk, "contact", name, platform)


def _count_attempt(activation_id: str) -> int | None:
    """Count the attempt before comparing codes, atomically and committed at once: of any
    number of parallel tries, at most ``MAX_CODE_ATTEMPTS`` are compared. None: no try left
    (or no such live activation)."""
    attempts = db.session.execute(
        update(EcpsActivation)
        .where(
            EcpsActivation.id == activation_id,
            EcpsActivation.used_at.is_(None),
            EcpsActivation.attempts < MAX_CODE_ATTEMPTS,
        )
        .values(attempts=EcpsActivation.attempts + 1)
        .returning(EcpsActivation.attempts),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    db.session.commit()
    return attempts


def _mark_used(activation_id: str) -> None:
    """Once: of two parallel completions with the right codes, one registers a device."""
    won = db.session.execute(
        update(EcpsActivation)
        .where(EcpsActivation.id == activation_id, EcpsActivation.used_at.is_(None))
        .values(used_at=now()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if won != 1:
        raise EcpsError("invalid_activation", "Cette activation a expiré ou a déjà servi.", 400)


def _check_proof(proof: str, jwk: dict[str, Any], activation_id: str) -> None:
    try:
        claims = jose.verify(proof, jwk, PROOF_TYP)
    except jose.BadSignature as error:
        raise EcpsError(
            "invalid_proof", "La preuve de possession de la clé est invalide."
        ) from error
    if claims.get("activation_id") != activation_id:
        raise EcpsError("invalid_proof", "La preuve ne porte pas sur cette activation.")


# --- with the CPS card -------------------------------------------------------------------------
CARD_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from a screen
CARD_CODE_LENGTH = 20  # 100 bits: no attempt counter needed
CARD_PROOF_TYP = "ecps-card-activation+jwt"


def _card_activation_id(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").upper()
    secret = current_app.extensions["psc_app_secret"]
    return secret.keyed_hash(normalised, "ecps-card-activation")[:64]


def start_card_activation(national_id: str) -> tuple[EcpsActivation, str]:
    """An activation code for a professional who proved themselves with their card; the
    phone scans it (QR code) or types it. Only its keyed hash is stored."""
    raw = "".join(secrets.choice(CARD_CODE_ALPHABET) for _ in range(CARD_CODE_LENGTH))
    code = "-".join(raw[i : i + 4] for i in range(0, CARD_CODE_LENGTH, 4))
    activation = EcpsActivation(
        id=_card_activation_id(code),
        national_id=national_id,
        mode="card",
        expires_at=now() + timedelta(seconds=current_settings().ecps_activation_lifetime),
    )
    db.session.add(activation)
    audit.record("activation_started", national_id, mode="card")
    return activation, code


def complete_card_activation(
    code: str, pin: str, jwk: dict[str, Any], proof: str, name: str = "", platform: str = ""
) -> EcpsDevice:
    activation = db.session.get(EcpsActivation, _card_activation_id(str(code)[:64]))
    if (
        activation is None
        or activation.mode != "card"
        or activation.used_at is not None
        or activation.expires_at < now()
    ):
        raise EcpsError(
            "invalid_activation", "Ce code d'activation est inconnu, expiré ou déjà utilisé."
        )
    try:
        claims = jose.verify(proof, jwk, CARD_PROOF_TYP)
    except jose.BadSignature as error:
        raise EcpsError(
            "invalid_proof", "La preuve de possession de la clé est invalide."
        ) from error
    if _card_activation_id(str(claims.get("activation_code", ""))) != activation.id:
        raise EcpsError("invalid_proof", "La preuve ne porte pas sur ce code d'activation.")
    _mark_used(activation.id)
    return register_device(activation.national_id, pin, jwk, "card", name, platform)


def register_device(
    national_id: str, pin: str, jwk: dict[str, Any], mode: str, name: str = "", platform: str = ""
) -> EcpsDevice:
    """A new active device for ``national_id`` (its earlier devices stay as they are)."""
    try:
        pin_hash = hash_pin(check_format(pin))
        public = jose.public_jwk(jwk)
    except InvalidPin as error:
        raise EcpsError("invalid_pin_format", str(error)) from error
    except jose.BadSignature as error:
        raise EcpsError("invalid_key", str(error)) from error
    device = EcpsDevice(
        id=str(uuid.uuid4()),
        national_id=national_id,
        name=(name or "e-CPS")[:100],
        platform=(platform or "")[:40],
        activation_mode=mode,
        public_jwk=public,
        pin_hash=pin_hash,
    )
    db.session.add(device)
    audit.record("device_activated", national_id, device.id, mode=mode, name=device.name)
    return device
