"""The e-CPS in the account space: rename and revoke a device, and activate a new one with the
CPS card (a card-authenticated page shows a single-use code and its QR code)."""

from __future__ import annotations

import qrcode
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.account import account_csrf, session_or_login
from psc_idp.login.csrf import same_token
from psc_idp.login.models import SsoSession
from psc_idp.login.sessions import current_session
from psc_idp.means.card.authenticator import AUTH_MODE as CARD
from psc_idp.means.ecps import devices
from psc_idp.means.ecps.activation import start_card_activation
from psc_idp.means.ecps.models import EcpsDevice

bp = Blueprint("ecps_account", __name__)


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
    session, login = session_or_login(url_for("ecps_account.card_activation"), CARD)
    if login is not None:
        return login
    settings = current_settings()
    _, code = start_card_activation(session.national_id)
    link = f"{settings.base_url.rstrip('/')}/ecps#activation={code}"
    page = render_template(
        "ecps/card_activation.html",
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
