"""WebAuthn registration and authentication, each a begin/complete pair around python-fido2's
``Fido2Server``. The server's state lives in the database between the two (single use,
expiring), user verification is required, and the signature counter is checked here (python-fido2
does not): a counter that goes backwards refuses the login and flags the key.

The checks of WebAuthn §7.1/§7.2 that a professional can trip over (type, origin, challenge,
RP ID, presence, verification) are made here first, each with its own French message;
python-fido2 then makes them again and verifies the signature and the attestation."""

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
    AuthenticatorData,
    CollectedClientData,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from flask import current_app
from sqlalchemy import select, update

from psc_idp import lockout
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.means.fido.models import FidoCeremony, FidoCredential
from psc_idp.means.fido.policy import AttestationRefused, verify_attestation
from psc_idp.timeutil import now

RP_NAME = "Pro Santé Connect"
#: Transports a browser may list (WebAuthn L3 AuthenticatorTransport); anything else is dropped.
TRANSPORTS = ("usb", "nfc", "ble", "smart-card", "hybrid", "internal")
UNREADABLE = "La réponse de la clé est illisible : recommencez."


class CeremonyFailed(ValueError):
    """``reason`` for machines, the message (French) for the professional."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        #: The professional the failed login was for, when known.
        self.national_id: str | None = None


def user_handle(national_id: str) -> bytes:
    """The WebAuthn user handle: opaque (WebAuthn §14.6.1 advises against personal data in it),
    stable for a professional, derived with the app secret so that no table is needed."""
    secret = current_app.extensions["psc_app_secret"]
    return bytes.fromhex(secret.keyed_hash(national_id, "webauthn-user-handle"))[:32]


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
    ceremony_id = str(ceremony_id)[:64]
    ceremony = db.session.get(FidoCeremony, ceremony_id)  # a NUL was refused by http.guard
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
        {"id": user_handle(national_id), "name": national_id, "displayName": display_name},
        credentials=[AttestedCredentialData(k.credential_data) for k in _keys(national_id)],
        resident_key_requirement=ResidentKeyRequirement.PREFERRED,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _store("register", owner, national_id, dict(state)), dict(options.public_key)


def complete_registration(
    ceremony_id: str, owner: str, response: dict[str, Any], name: str
) -> FidoCredential:
    ceremony = _take(ceremony_id, "register", owner)
    registration = _parse(RegistrationResponse, response)
    attestation = registration.response.attestation_object
    _check_client_data(registration.response.client_data, ceremony.state, "create")
    _check_authenticator_data(attestation.auth_data, ceremony.state)
    data = attestation.auth_data.credential_data
    if data is None:
        raise CeremonyFailed(
            "no_credential", "La clé n'a pas fourni sa clé publique : elle ne peut pas servir."
        )
    # WebAuthn §7.1 step 24: at most 1023 bytes (its base64url fits the column).
    if data.credential_id != registration.raw_id or len(data.credential_id) > 1023:
        raise CeremonyFailed("invalid_response", UNREADABLE)
    try:
        auth_data = _server().register_complete(ceremony.state, registration)
    except AttestationRefused as refusal:
        raise CeremonyFailed(refusal.reason, str(refusal)) from refusal
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed("invalid_response", UNREADABLE) from error
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
        transports=_transports(response),
        attestation_format=attestation.fmt[:20],
        name=clean_name(name) or "Clé de sécurité",
    )
    db.session.add(key)
    return key


def _transports(response: dict[str, Any]) -> list[str]:
    listed = response.get("response", {}).get("transports")
    return [t for t in listed if t in TRANSPORTS] if isinstance(listed, list) else []


def clean_name(name: str) -> str:
    """A key's name as shown in the account space: printable, at most 100 characters."""
    return "".join(c for c in str(name or "") if c.isprintable()).strip()[:100]


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
    """The key that signed the challenge; ``CeremonyFailed`` otherwise, naming the
    professional it was for when it is known (the lockout counts the failure)."""
    ceremony = _take(ceremony_id, "authenticate", owner)
    authentication = _parse(AuthenticationResponse, response)
    raw_id = websafe_encode(authentication.raw_id)
    key = db.session.scalar(select(FidoCredential).where(FidoCredential.credential_id == raw_id))
    try:
        _check_key(key, ceremony, authentication)
    except CeremonyFailed as failure:
        failure.national_id = key.national_id if key is not None else ceremony.national_id
        raise
    assert key is not None
    key.last_used_at = now()
    return key


def _check_key(key: FidoCredential | None, ceremony: FidoCeremony, authentication: Any) -> None:
    if key is None or key.revoked_at is not None:
        raise CeremonyFailed("unknown_key", "Cette clé n'est pas (ou plus) enregistrée.")
    if ceremony.national_id and key.national_id != ceremony.national_id:
        raise CeremonyFailed("unknown_key", "Cette clé n'appartient pas à cet identifiant.")
    # WebAuthn §7.2 step 6: the user handle, when given, names the key's owner.
    handle = authentication.response.user_handle
    if handle and handle != user_handle(key.national_id):
        raise CeremonyFailed("unknown_key", "Cette clé n'appartient pas à ce professionnel.")
    if key.suspected_clone_at is not None:
        raise CeremonyFailed(
            "suspected_clone",
            "Cette clé est bloquée (copie suspectée) : révoquez-la dans votre espace et "
            "enregistrez-en une autre.",
        )
    _check_client_data(authentication.response.client_data, ceremony.state, "get")
    _check_authenticator_data(authentication.response.authenticator_data, ceremony.state)
    # A professional locked out (psc_idp.lockout) gets the answer of a bad signature.
    locked_out = lockout.is_locked(lockout.PROFESSIONAL, key.national_id)
    try:
        if locked_out:
            raise ValueError("locked out")
        _server().authenticate_complete(
            ceremony.state, [AttestedCredentialData(key.credential_data)], authentication
        )
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed(
            "bad_signature", "La signature de la clé est invalide : la connexion est refusée."
        ) from error
    _check_counter(key, authentication.response.authenticator_data.counter)


# --- checks ------------------------------------------------------------------------------------
def _parse(kind: type, response: dict[str, Any]) -> Any:
    """The browser's JSON read by python-fido2. Its parsers raise whatever the bytes trip
    (IndexError on a truncated CBOR, ValueError, TypeError…): all of them are an unreadable
    answer here, never a server error."""
    try:
        return kind.from_dict(response)
    except Exception as error:  # hostile input, see above
        raise CeremonyFailed("invalid_response", UNREADABLE) from error


def _check_client_data(client_data: CollectedClientData, state: dict, kind: str) -> None:
    if client_data.type != f"webauthn.{kind}":
        raise CeremonyFailed(
            "wrong_type", "La réponse de la clé ne correspond pas à cette opération."
        )
    if client_data.origin != expected_origin():
        raise CeremonyFailed(
            "bad_origin",
            "La clé a répondu à une page d'un autre site que Pro Santé Connect : refusé.",
        )
    if client_data.cross_origin:
        raise CeremonyFailed(
            "cross_origin", "La clé a été sollicitée depuis une page intégrée à un autre site."
        )
    if not secrets.compare_digest(websafe_decode(state["challenge"]), client_data.challenge):
        raise CeremonyFailed(
            "bad_challenge", "La réponse de la clé ne correspond pas à cette demande : recommencez."
        )


def _check_authenticator_data(auth_data: AuthenticatorData, state: dict) -> None:
    if not secrets.compare_digest(auth_data.rp_id_hash, _server().rp.id_hash or b""):
        raise CeremonyFailed(
            "bad_rp_id", f"La clé a répondu pour un autre domaine que « {rp_id()} » : refusé."
        )
    if not auth_data.is_user_present():
        raise CeremonyFailed(
            "no_user_presence",
            "La clé n'a pas constaté votre présence : touchez-la et recommencez.",
        )
    if state.get("user_verification") == "required" and not auth_data.is_user_verified():
        raise CeremonyFailed(
            "no_user_verification",
            "La clé n'a pas vérifié votre code PIN ou votre empreinte : cette vérification "
            "est obligatoire.",
        )


def _check_counter(key: FidoCredential, counter: int) -> None:
    """WebAuthn §6.1.1: a counter that does not grow (when either is non-zero) may reveal a
    cloned authenticator."""
    if (counter or key.sign_count) and counter <= key.sign_count:
        key.suspected_clone_at = now()
        db.session.commit()
        raise CeremonyFailed(
            "counter_regression",
            "Le compteur de cette clé a reculé : elle a peut-être été copiée. Elle est désormais "
            "bloquée : révoquez-la dans votre espace et enregistrez-en une autre.",
        )
    key.sign_count = counter


def decode_id(value: str) -> bytes:
    return websafe_decode(value)
