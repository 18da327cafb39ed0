"""Authenticating a device's call: ``Authorization: ECPS-Device <JWS>``.

The JWS (ES256, ``typ: ecps-device+jwt``, ``kid`` = device id) is signed by the device key over
the method and URL of the call (``htm``, ``htu``, as DPoP), with a short life (``exp`` at most
two minutes after ``iat``) and a ``jti`` accepted once."""

from __future__ import annotations

from flask import Request

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.means.ecps import jose
from psc_idp.means.ecps.errors import EcpsError
from psc_idp.means.ecps.models import DeviceStatus, EcpsDevice
from psc_idp.replay import accept_once

SCHEME = "ECPS-Device"
CALL_TYP = "ecps-device+jwt"
MAX_LIFETIME = 120


def _unauthorized(message: str) -> EcpsError:
    return EcpsError("invalid_device_token", message, 401)


def authenticate_device(request: Request, allow_locked: bool = False) -> EcpsDevice:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != SCHEME or not token:
        raise _unauthorized(f"En-tête Authorization: {SCHEME} <JWS> attendu.")
    try:
        device_id = str(jose.header_of(token).get("kid", ""))
    except jose.BadSignature as error:
        raise _unauthorized(str(error)) from error
    device = db.session.get(EcpsDevice, device_id[:64]) if device_id else None
    if device is None:
        raise EcpsError("unknown_device", "Appareil inconnu de ce serveur.", 401)
    if device.status == DeviceStatus.REVOKED:
        # Permanent, unlike a refused call token: the device should forget its key.
        raise EcpsError("device_revoked", "Cette e-CPS a été révoquée.", 401)
    claims = _claims(token, device, request)
    if not accept_once(f"device-call\0{device.id}\0{claims['jti']}", claims["exp"] + 60):
        raise _unauthorized("Jeton d'appel déjà utilisé.")
    if device.status == DeviceStatus.LOCKED and not allow_locked:
        raise EcpsError("device_locked", "Cette e-CPS est verrouillée : réactivez-la.", 423)
    return device


def _claims(token: str, device: EcpsDevice, request: Request) -> dict:
    try:
        claims = jose.verify(token, device.public_jwk, CALL_TYP)
    except jose.BadSignature as error:
        raise _unauthorized(str(error)) from error
    if claims.get("iss") != device.id:
        raise _unauthorized("iss doit être l'identifiant de l'appareil.")
    # The public URL (PSC_BASE_URL), not the one seen behind a TLS-terminating proxy.
    expected_url = current_settings().base_url.rstrip("/") + request.path
    if claims.get("htm") != request.method or claims.get("htu") != expected_url:
        raise _unauthorized("Le jeton ne correspond pas à cet appel (htm/htu).")
    # iat and exp are integers once verified (ecps.jose), so this arithmetic cannot fail.
    if "exp" not in claims or claims["exp"] - claims["iat"] > MAX_LIFETIME:
        raise _unauthorized(f"exp est requis, au plus {MAX_LIFETIME} s après iat.")
    return claims
