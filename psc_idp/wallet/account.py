"""The professional's account space (``/wallet/account``): their e-CPS devices, with rename and
revoke, and the recent events of their means. Reached with the SSO session; without one, a login
to the wallet itself starts first."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.ecps import audit, devices
from psc_idp.ecps.models import EcpsDevice
from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.login.sessions import current_session, touch
from psc_idp.login.transactions import browser_cookie, create_transaction, set_browser_cookie

bp = Blueprint("account", __name__)
WALLET_CLIENT = "wallet"
WALLET_CLIENT_NAME = "Espace personnel Pro Santé Connect"
EVENT_LABELS = {
    "activation_started": "Activation d'une e-CPS demandée",
    "device_activated": "e-CPS activée",
    "device_revoked": "e-CPS révoquée",
    "device_renamed": "e-CPS renommée",
    "device_locked": "e-CPS verrouillée (codes PIN erronés)",
    "wrong_pin": "Code PIN erroné",
    "push_sent": "Demande envoyée",
    "push_approved": "Demande approuvée",
    "push_denied": "Demande refusée",
}


def _csrf(session: SsoSession) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(session.id, "account-csrf")


def _session_or_login() -> tuple[SsoSession | None, ResponseReturnValue | None]:
    session = current_session(request)
    if session is not None:
        touch(session)
        return session, None
    browser = browser_cookie(request)
    tx = create_transaction(WALLET_CLIENT, WALLET_CLIENT_NAME, {}, [], browser)
    tx.return_to = url_for("account.home")
    db.session.commit()
    response = redirect(url_for("wallet.login_page", tx_id=tx.id))
    set_browser_cookie(response, browser)
    return None, response


@bp.get("/account")
def home() -> ResponseReturnValue:
    session, login = _session_or_login()
    if login is not None:
        return login
    practitioner = find_practitioner(session.national_id)
    page = render_template(
        "wallet/account.html",
        name=display_name(practitioner) if practitioner else session.national_id,
        national_id=session.national_id,
        auth_mode=session.auth_mode,
        devices=devices.devices_for(session.national_id),
        events=[(e, EVENT_LABELS.get(e.event, e.event)) for e in audit.recent(session.national_id)],
        csrf_token=_csrf(session),
        logout_url=f"{current_settings().issuer}/protocol/openid-connect/logout",
        dev_mode=current_settings().dev_mode,
    )
    db.session.commit()
    return page


def _owned_device(device_id: str) -> tuple[SsoSession, EcpsDevice]:
    session = current_session(request)
    if session is None:
        abort(403)
    if not hmac.compare_digest(request.form.get("csrf_token", ""), _csrf(session)):
        abort(400)
    device = db.session.get(EcpsDevice, device_id[:64])
    if device is None or device.national_id != session.national_id:
        abort(404)
    return session, device


@bp.post("/account/devices/<device_id>/revoke")
def revoke(device_id: str) -> ResponseReturnValue:
    _, device = _owned_device(device_id)
    devices.revoke(device, by="account")
    db.session.commit()
    return redirect(url_for("account.home"))


@bp.post("/account/devices/<device_id>/rename")
def rename(device_id: str) -> ResponseReturnValue:
    _, device = _owned_device(device_id)
    devices.rename(device, request.form.get("name", ""))
    db.session.commit()
    return redirect(url_for("account.home"))
