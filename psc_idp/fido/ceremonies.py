"""WebAuthn registration and authentication, each a begin/complete pair around python-fido2's
``Fido2Server``. The server's state lives in the database between the two (single use,
expiring), user verification is required, and the signature counter is checked here (python-fido2
does not): a counter that goes backwards refuses the login and flags the key."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from sqlalchemy import select, update

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.fido.models import FidoCeremony, FidoCredential
from psc_idp.fido.policy import AttestationRefused, verify_attestation
from psc_idp.timeutil import now

RP_NAME = "Pro Santé Connect"


class CeremonyFailed(ValueError):
    """``reason`` for machines, the message (French) for the professional."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def rp_id() -> str:
    settings = current_settings()
    return settings.fido_rp_id or urlsplit(settings.wallet_base).hostname or "localhost"


def expected_origin() -> str:
    settings = current_settings()
    if settings.fido_origin:
        return settings.fido_origin
    parts = urlsplit(settings.wallet_base)
    return f"{parts.scheme}://{parts.netloc}"


def _server() -> Fido2Server:
    return Fido2Server(
        {"id": rp_id(), "name": RP_NAME},
        attestation="direct",
        verify_origin=lambda origin: origin == expected_origin(),
        verify_attestation=verify_attestation,
    )


def _keys(national_id: str) -> list[FidoCredential]:
    query = select(FidoCredential).where(
        FidoCredential.national_id == national_id, FidoCredential.revoked_at.is_(None)
    )
    return list(db.session.scalars(query))


def _store(kind: str, owner: str, national_id: str | None, state: dict[str, Any]) -> str:
    ceremony = FidoCeremony(
        id=secrets.token_urlsafe(24),
        kind=kind,
        owner=owner,
        national_id=national_id,
        state=state,
        expires_at=now() + timedelta(seconds=current_settings().fido_challenge_lifetime),
    )
    db.session.add(ceremony)
    db.session.commit()
    return ceremony.id


def _take(ceremony_id: str, kind: str, owner: str) -> FidoCeremony:
    """The ceremony, spent now: a challenge answers once."""
    ceremony = db.session.get(FidoCeremony, str(ceremony_id)[:64])
    if ceremony is None or ceremony.kind != kind or ceremony.owner != owner:
        raise CeremonyFailed("unknown_challenge", "Cette demande de clé est inconnue.")
    won = db.session.execute(
        update(FidoCeremony)
        .where(FidoCeremony.id == ceremony.id, FidoCeremony.used_at.is_(None))
        .values(used_at=now()),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    if won != 1:
        raise CeremonyFailed("used_challenge", "Cette demande de clé a déjà servi : recommencez.")
    if ceremony.expires_at < now():
        raise CeremonyFailed("expired_challenge", "Le délai est dépassé : recommencez.")
    return ceremony


# --- registration ------------------------------------------------------------------------------
def begin_registration(owner: str, national_id: str, display_name: str) -> tuple[str, dict]:
    options, state = _server().register_begin(
        {"id": national_id.encode(), "name": national_id, "displayName": display_name},
        credentials=[AttestedCredentialData(k.credential_data) for k in _keys(national_id)],
        resident_key_requirement=ResidentKeyRequirement.PREFERRED,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _store("register", owner, national_id, dict(state)), dict(options.public_key)


def complete_registration(
    ceremony_id: str, owner: str, response: dict[str, Any], name: str
) -> FidoCredential:
    ceremony = _take(ceremony_id, "register", owner)
    try:
        auth_data = _server().register_complete(ceremony.state, response)
        registration = RegistrationResponse.from_dict(response)
    except AttestationRefused as refusal:
        raise CeremonyFailed(refusal.reason, str(refusal)) from refusal
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed("invalid_response", f"La clé a été refusée : {error}") from error
    data = auth_data.credential_data
    credential_id = websafe_encode(data.credential_id)
    if db.session.scalar(
        select(FidoCredential.id).where(FidoCredential.credential_id == credential_id)
    ):
        raise CeremonyFailed("already_enrolled", "Cette clé est déjà enregistrée.")
    key = FidoCredential(
        id=str(uuid.uuid4()),
        national_id=ceremony.national_id,
        credential_id=credential_id,
        credential_data=bytes(data),
        aaguid=str(data.aaguid),
        sign_count=auth_data.counter,
        transports=list(response.get("response", {}).get("transports", []) or []),
        attestation_format=registration.response.attestation_object.fmt,
        name=(name or "Clé de sécurité")[:100],
    )
    db.session.add(key)
    return key


# --- authentication ----------------------------------------------------------------------------
def begin_authentication(owner: str, national_id: str | None) -> tuple[str, dict]:
    """With a national id: its keys in allowCredentials; without: a discoverable credential."""
    keys = _keys(national_id) if national_id else []
    options, state = _server().authenticate_begin(
        [AttestedCredentialData(k.credential_data) for k in keys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _store("authenticate", owner, national_id, dict(state)), dict(options.public_key)


def complete_authentication(
    ceremony_id: str, owner: str, response: dict[str, Any]
) -> FidoCredential:
    ceremony = _take(ceremony_id, "authenticate", owner)
    try:
        raw_id = websafe_encode(AuthenticationResponse.from_dict(response).raw_id)
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed("invalid_response", "Réponse de la clé illisible.") from error
    key = db.session.scalar(select(FidoCredential).where(FidoCredential.credential_id == raw_id))
    if key is None or key.revoked_at is not None:
        raise CeremonyFailed("unknown_key", "Cette clé n'est pas (ou plus) enregistrée.")
    if ceremony.national_id and key.national_id != ceremony.national_id:
        raise CeremonyFailed("unknown_key", "Cette clé n'appartient pas à cet identifiant.")
    if key.suspected_clone_at is not None:
        raise CeremonyFailed(
            "suspected_clone", "Cette clé est bloquée (copie suspectée) : révoquez-la."
        )
    try:
        _server().authenticate_complete(
            ceremony.state, [AttestedCredentialData(key.credential_data)], response
        )
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed("invalid_response", f"La clé a été refusée : {error}") from error
    _check_counter(
        key, AuthenticationResponse.from_dict(response).response.authenticator_data.counter
    )
    key.last_used_at = now()
    return key


def _check_counter(key: FidoCredential, counter: int) -> None:
    """WebAuthn §6.1.1: a counter that does not grow (when either is non-zero) may reveal a
    cloned authenticator."""
    if (counter or key.sign_count) and counter <= key.sign_count:
        key.suspected_clone_at = now()
        db.session.commit()
        raise CeremonyFailed(
            "counter_regression",
            "Le compteur de cette clé a reculé : elle a peut-être été copiée. Elle est bloquée "
            "pour cette connexion ; contactez votre support.",
        )
    key.sign_count = counter


def decode_id(value: str) -> bytes:
    return websafe_decode(value)
