"""The professional's account space (``/wallet/account``): their e-CPS devices, with rename and
revoke, and the recent events of their means. Reached with the SSO session; without one, a login
to the wallet itself starts first."""

from __future__ import annotations

import qrcode
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage
from sqlalchemy import select

from psc_idp.config import current_settings
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.ecps import audit, devices
from psc_idp.ecps.activation import start_card_activation
from psc_idp.ecps.models import EcpsDevice
from psc_idp.extensions import db
from psc_idp.fido.models import FidoCredential
from psc_idp.login.csrf import bound_token, same_token
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
    "key_enrolled": "Clé de sécurité enregistrée",
    "key_revoked": "Clé de sécurité révoquée",
}


def keys_for(national_id: str) -> list[FidoCredential]:
    query = (
        select(FidoCredential)
        .where(FidoCredential.national_id == national_id)
        .order_by(FidoCredential.created_at.desc())
    )
    return list(db.session.scalars(query))


def account_csrf(session: SsoSession) -> str:
    return bound_token(session.id, "account")


def session_or_login(
    return_to: str, card_only: bool = False
) -> tuple[SsoSession | None, ResponseReturnValue | None]:
    """The SSO session, or a redirect to a wallet login that comes back to ``return_to``.
    ``card_only``: the session must have been opened with the CPS card."""
    session = current_session(request)
    if session is not None and (not card_only or session.auth_mode == "CARD"):
        touch(session)
        return session, None
    acrs = [current_settings().acr_by_auth_mode["CARD"]] if card_only else []
    browser = browser_cookie(request)
    tx = create_transaction(WALLET_CLIENT, WALLET_CLIENT_NAME, {}, acrs, browser)
    tx.return_to = return_to
    db.session.commit()
    response = redirect(url_for("wallet.login_page", tx_id=tx.id))
    set_browser_cookie(response, browser)
    return None, response


@bp.get("/account")
def home() -> ResponseReturnValue:
    session, login = session_or_login(url_for("account.home"))
    if login is not None:
        return login
    practitioner = find_practitioner(session.national_id)
    page = render_template(
        "wallet/account.html",
        name=display_name(practitioner) if practitioner else session.national_id,
        national_id=session.national_id,
        auth_mode=session.auth_mode,
        devices=devices.devices_for(session.national_id),
        keys=keys_for(session.national_id),
        events=[(e, EVENT_LABELS.get(e.event, e.event)) for e in audit.recent(session.national_id)],
        csrf_token=account_csrf(session),
        logout_url=f"{current_settings().issuer}/protocol/openid-connect/logout",
        dev_mode=current_settings().dev_mode,
    )
    db.session.commit()
    return page


def _owned_device(device_id: str) -> tuple[SsoSession, EcpsDevice]:
    session = current_session(request)
    if session is None:
        abort(403)
    if not same_token(request.form.get("csrf_token"), account_csrf(session)):
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


@bp.get("/account/ecps/card-activation")
def card_activation() -> ResponseReturnValue:
    """Activate an e-CPS with the CPS card: a card-authenticated page shows a single-use code
    and its QR code, which the phone scans or types."""
    session, login = session_or_login(url_for("account.card_activation"), card_only=True)
    if login is not None:
        return login
    settings = current_settings()
    _, code = start_card_activation(session.national_id)
    link = f"{settings.base_url.rstrip('/')}/ecps#activation={code}"
    page = render_template(
        "wallet/ecps_card_activation.html",
        code=code,
        qr_svg=Markup(qr_svg(link)),
        link=link,
        minutes=settings.ecps_activation_lifetime // 60,
        back_url=url_for("account.home"),
        dev_mode=settings.dev_mode,
    )
    db.session.commit()
    return page


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image file, no script)."""
    image = qrcode.make(data, image_factory=SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")
