"""Security keys in the account space: enrolment after a fresh e-CPS approval (a push that
says « Activation d'une clé de sécurité », approved with the PIN within the last minutes),
rename and revoke."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from psc_idp import audit
from psc_idp.config import current_settings
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.extensions import db
from psc_idp.login.account import account_csrf, session_or_login
from psc_idp.login.csrf import same_token
from psc_idp.login.models import SsoSession
from psc_idp.login.sessions import current_session
from psc_idp.means.ecps import pushes
from psc_idp.means.ecps.models import EcpsPush, PushStatus
from psc_idp.means.fido.ceremonies import (
    CeremonyFailed,
    begin_registration,
    clean_name,
    complete_registration,
)
from psc_idp.means.fido.models import FidoCredential
from psc_idp.timeutil import now

bp = Blueprint("keys", __name__)
ENROLMENT = "Activation d'une clé de sécurité"
#: Why an enrolment is refused, by the state of the latest approval asked.
NOT_APPROVED = {
    "none": "Demandez d'abord l'accord de votre e-CPS.",
    "pending": "Approuvez d'abord la demande sur votre e-CPS.",
    "denied": "La demande a été refusée sur votre e-CPS : demandez-la à nouveau.",
    "cancelled": "La demande a été annulée : demandez-la à nouveau.",
    "expired": "La demande a expiré sans réponse : demandez-la à nouveau.",
    "approved": "L'accord de votre e-CPS a expiré : demandez-le à nouveau.",
}


def keys_for(national_id: str) -> list[FidoCredential]:
    query = (
        select(FidoCredential)
        .where(FidoCredential.national_id == national_id)
        .order_by(FidoCredential.created_at.desc())
    )
    return list(db.session.scalars(query))


def _approval(session: SsoSession) -> EcpsPush | None:
    query = (
        select(EcpsPush)
        .where(EcpsPush.kind == "enrolment", EcpsPush.subject_ref == session.id)
        .order_by(EcpsPush.created_at.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def _fresh(push: EcpsPush | None) -> bool:
    decided = pushes.decided_at(push) if push is not None else None
    if push is None or pushes.state(push) != PushStatus.APPROVED or decided is None:
        return False
    window = timedelta(seconds=current_settings().fido_enrolment_approval_window)
    return decided + window >= now()


def _checked_session() -> SsoSession:
    session = current_session(request)
    if session is None:
        abort(403)
    if not same_token(request.form.get("csrf_token"), account_csrf(session)):
        abort(400)
    return session


@bp.get("/account/keys/add")
def add() -> ResponseReturnValue:
    session, login = session_or_login(url_for("keys.add"))
    if login is not None:
        return login
    push = _approval(session)
    context = {"csrf_token": account_csrf(session), "dev_mode": current_settings().dev_mode}
    if _fresh(push):
        practitioner = find_practitioner(session.national_id)
        name = display_name(practitioner) if practitioner else session.national_id
        ceremony_id, options = begin_registration(session.id, session.national_id, name)
        return render_template(
            "fido/enrol.html",
            step="register",
            ceremony_id=ceremony_id,
            options_json=json.dumps(options),
            **context,
        )
    state = pushes.state(push) if push is not None else "none"
    return render_template(
        "fido/enrol.html",
        step="approve",
        approval_state=state,
        binding_message=push.binding_message if push is not None else "",
        **context,
    )


@bp.post("/account/keys/approval")
def ask_approval() -> ResponseReturnValue:
    session = _checked_session()
    if pushes.reach(session.national_id) != pushes.Reach.REACHABLE:
        return render_template(
            "fido/enrol.html",
            step="approve",
            approval_state="no_device",
            csrf_token=account_csrf(session),
            dev_mode=current_settings().dev_mode,
        ), 400
    pushes.create_push(
        session.national_id,
        "enrolment",
        client_name=ENROLMENT,
        binding_message=pushes.binding_code(),
        subject_ref=session.id,
    )
    db.session.commit()
    return redirect(url_for("keys.add"))


@bp.get("/account/keys/approval/status")
def approval_status() -> ResponseReturnValue:
    session = current_session(request)
    push = _approval(session) if session is not None else None
    return jsonify(status=pushes.state(push) if push is not None else "none")


@bp.post("/account/keys/register")
def register() -> ResponseReturnValue:
    session = _checked_session()
    push = _approval(session)
    if not _fresh(push):
        state = pushes.state(push) if push is not None else "none"
        return _enrol_error(session, NOT_APPROVED.get(state, NOT_APPROVED["none"]))
    try:
        response = json.loads(request.form.get("response") or "null")
        if not isinstance(response, dict):
            raise ValueError("no response")
        key = complete_registration(
            request.form.get("ceremony", ""), session.id, response, request.form.get("name", "")
        )
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        message = str(error) if isinstance(error, CeremonyFailed) else "La clé n'a pas répondu."
        return _enrol_error(session, message)
    audit.record("key_enrolled", session.national_id, key.id, name=key.name, aaguid=key.aaguid)
    db.session.commit()
    return redirect(url_for("account.home"))


def _enrol_error(session: SsoSession, message: str) -> ResponseReturnValue:
    db.session.rollback()
    return render_template(
        "fido/enrol.html",
        step="error",
        message=message,
        csrf_token=account_csrf(session),
        dev_mode=current_settings().dev_mode,
    ), 400


def _owned_key(key_id: str) -> tuple[SsoSession, FidoCredential]:
    session = _checked_session()
    key = db.session.get(FidoCredential, key_id[:64])  # a NUL was refused by http.guard
    if key is None or key.national_id != session.national_id:
        abort(404)
    return session, key


@bp.post("/account/keys/<key_id>/revoke")
def revoke(key_id: str) -> ResponseReturnValue:
    session, key = _owned_key(key_id)
    if key.revoked_at is None:
        key.revoked_at = now()
        audit.record("key_revoked", session.national_id, key.id)
    db.session.commit()
    return redirect(url_for("account.home"))


@bp.post("/account/keys/<key_id>/rename")
def rename(key_id: str) -> ResponseReturnValue:
    _, key = _owned_key(key_id)
    key.name = clean_name(request.form.get("name", "")) or key.name
    db.session.commit()
    return redirect(url_for("account.home"))
