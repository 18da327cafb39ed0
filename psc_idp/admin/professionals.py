"""Professionals: the directory searched by national id or name, the UserInfo a service would
get for a chosen scope (the directory's builder, as the protocol calls it), deactivation; their
e-CPS devices and FIDO keys (revoke, unlock the PIN lockout) and their login lockout (as
``psc-idp unlock --national-id``)."""

from __future__ import annotations

import json

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp import lockout
from psc_idp.admin.blueprint import audited, bp, confirmed, page
from psc_idp.config import current_settings
from psc_idp.directory.lookup import count_practitioners, find_practitioner, search_practitioners
from psc_idp.directory.lookup import summary as practitioner_summary
from psc_idp.directory.models import Practitioner
from psc_idp.directory.reading import read_practitioner
from psc_idp.directory.userinfo import build_userinfo
from psc_idp.extensions import db
from psc_idp.means.ecps import devices
from psc_idp.means.ecps.models import EcpsDevice
from psc_idp.means.fido.enrolment import keys_for
from psc_idp.means.fido.models import FidoCredential
from psc_idp.protocol import scopes
from psc_idp.timeutil import now

PAGE_SIZE = 50
DEFAULT_SCOPE = "openid scope_all"
AUTH_MODES = ("CARD", "MOBILE", "FIDO")


def _practitioner(national_id: str) -> Practitioner:
    practitioner = find_practitioner(national_id[:64])
    if practitioner is None:
        wanted = national_id[:64]
        abort(404, description=f"Aucun professionnel d'identifiant national « {wanted} ».")
    return practitioner


def _back(national_id: str) -> ResponseReturnValue:
    return redirect(url_for("admin.professional", national_id=national_id))


@bp.get("/professionals")
def professionals() -> ResponseReturnValue:
    query = str(request.args.get("q", "")).strip()[:100]
    found = search_practitioners(query, PAGE_SIZE) if query else []
    return page(
        "professionals.html",
        query=query,
        found=[practitioner_summary(p) | {"active": p.active} for p in found],
        total=count_practitioners(query) if query else 0,
    )


def userinfo_preview(national_id: str, scope: str, auth_mode: str) -> dict:
    """The UserInfo a public-``sub`` service would get for a token of ``scope`` after a login
    with ``auth_mode``: the protocol's steps (effective scopes, scope claims, builder)."""
    settings = current_settings()
    record = read_practitioner(national_id)
    granted = scopes.effective(scope, settings.default_scopes)
    standard = scopes.claims_for(scopes.USERINFO, granted, scopes.Subject(record, None))
    return build_userinfo(
        record,
        sub=settings.sub_prefix + national_id,
        auth_mode=auth_mode,
        palier=settings.palier_by_auth_mode.get(auth_mode, ""),
        scopes=granted,
        profile=settings.userinfo_profile,
        standard=standard,
    )


@bp.get("/professionals/<national_id>")
def professional(national_id: str) -> ResponseReturnValue:
    practitioner = _practitioner(national_id)
    scope = str(request.args.get("scope", DEFAULT_SCOPE)).strip()[:500] or DEFAULT_SCOPE
    auth_mode = str(request.args.get("auth_mode", "CARD"))
    error, userinfo = "", None
    unknown = scopes.unknown(scope.split())
    if auth_mode not in AUTH_MODES:
        error = "Mode d'authentification inconnu : choisissez CARD, MOBILE ou FIDO."
    elif unknown:
        error = f"Scope inconnu : {' '.join(unknown)}."
    else:
        claims = userinfo_preview(practitioner.national_id, scope, auth_mode)
        userinfo = json.dumps(claims, ensure_ascii=False, indent=2)
    state = lockout.state(lockout.PROFESSIONAL, practitioner.national_id)
    return page(
        "professional.html",
        p=practitioner_summary(practitioner),
        active=practitioner.active,
        scope=scope,
        auth_mode=auth_mode,
        auth_modes=AUTH_MODES,
        scope_names=scopes.SUPPORTED_SCOPES,
        userinfo=userinfo,
        error=error,
        devices=devices.devices_for(practitioner.national_id),
        keys=keys_for(practitioner.national_id),
        lockout=state,
        locked=state is not None and state.locked(),
    ), (400 if error else 200)


@bp.post("/professionals/<national_id>/deactivate")
def deactivate(national_id: str) -> ResponseReturnValue:
    practitioner = _practitioner(national_id)
    asked = confirmed(
        f"Désactiver le professionnel {practitioner.national_id} ? Il ne peut plus se "
        "connecter et ses jetons cessent d'être acceptés.",
        url_for("admin.professional", national_id=practitioner.national_id),
    )
    if asked is not None:
        return asked
    practitioner.active = False
    audited("admin_professional_deactivated", practitioner.national_id)
    db.session.commit()
    return _back(practitioner.national_id)


@bp.post("/professionals/<national_id>/reactivate")
def reactivate(national_id: str) -> ResponseReturnValue:
    practitioner = _practitioner(national_id)
    practitioner.active = True
    audited("admin_professional_reactivated", practitioner.national_id)
    db.session.commit()
    return _back(practitioner.national_id)


@bp.post("/professionals/<national_id>/unlock")
def unlock_professional(national_id: str) -> ResponseReturnValue:
    practitioner = _practitioner(national_id)
    removed = lockout.unlock(lockout.PROFESSIONAL, practitioner.national_id)
    audited("admin_professional_unlocked", practitioner.national_id, lifted=removed)
    db.session.commit()
    return _back(practitioner.national_id)


def _device(device_id: str) -> EcpsDevice:
    device = db.session.get(EcpsDevice, device_id[:64])
    if device is None:
        abort(404, description="Aucune application e-CPS de cet identifiant.")
    return device


@bp.post("/devices/<device_id>/revoke")
def revoke_device(device_id: str) -> ResponseReturnValue:
    device = _device(device_id)
    asked = confirmed(
        f"Révoquer l'application e-CPS « {device.name} » de {device.national_id} ? "
        "Elle devra être activée à nouveau.",
        url_for("admin.professional", national_id=device.national_id),
    )
    if asked is not None:
        return asked
    devices.revoke(device, by="admin")
    audited("admin_device_revoked", device.national_id, device_id=device.id)
    db.session.commit()
    return _back(device.national_id)


@bp.post("/devices/<device_id>/unlock")
def unlock_device(device_id: str) -> ResponseReturnValue:
    device = _device(device_id)
    if devices.unlock(device, by="admin"):
        audited("admin_device_unlocked", device.national_id, device_id=device.id)
    db.session.commit()
    return _back(device.national_id)


@bp.post("/fido/<key_id>/revoke")
def revoke_key(key_id: str) -> ResponseReturnValue:
    key = db.session.get(FidoCredential, key_id[:64])
    if key is None:
        abort(404, description="Aucune clé FIDO de cet identifiant.")
    asked = confirmed(
        f"Révoquer la clé de sécurité « {key.name} » de {key.national_id} ?",
        url_for("admin.professional", national_id=key.national_id),
    )
    if asked is not None:
        return asked
    if key.revoked_at is None:
        key.revoked_at = now()
        audited("admin_key_revoked", key.national_id, device_id=key.id)
    db.session.commit()
    return _back(key.national_id)
