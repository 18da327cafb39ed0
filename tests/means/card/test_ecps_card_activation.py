"""The card path of e-CPS activation: a card-authenticated page shows a single-use code and its
QR code; the phone (or the command line) activates with it."""

from __future__ import annotations

import json
import re

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsDevice
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.helpers import Browser

PAGE = "/wallet/account/ecps/card-activation"
PHARMACIST = "899700101068"  # nobody else activates an e-CPS for her in the suite


def _card_session(app, national_id: str, auth_mode: str = "CARD") -> Browser:
    browser = Browser(app)
    start = browser.http.get(PAGE)
    assert start.status_code == 302 and "/wallet/login/" in start.headers["Location"]
    done = browser.pick_identity(start.headers["Location"], national_id, auth_mode)
    assert done.status_code == 302, done.get_data(as_text=True)
    return browser


def _code(html: str) -> str:
    return re.search(r'id="activation-code">([A-Z0-9-]+)<', html).group(1)


def test_card_page_shows_a_qr_code_that_activates_a_device(app):
    browser = _card_session(app, PHARMACIST)
    page = browser.http.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html
    code = _code(html)
    assert f"/ecps#activation={code}" in html
    device = VirtualDevice.generate()
    body = {
        "activation_code": code,
        "pin": "2580",
        "public_key": device.public_jwk,
        "proof": device.card_activation_proof(code),
        "device": {"name": "Téléphone pro"},
    }
    done = app.test_client().post("/ecps/api/v1/activations/card", json=body)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["national_id"] == PHARMACIST
    with app.app_context():
        row = db.session.get(EcpsDevice, done.get_json()["device_id"])
        assert row.activation_mode == "card" and row.status == "active"
    again = app.test_client().post("/ecps/api/v1/activations/card", json=body)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_activation"


def test_the_page_requires_a_card_login(app):
    browser = Browser(app)
    start = browser.http.get(PAGE)
    login_page = browser.http.get(start.headers["Location"]).get_data(as_text=True)
    assert "Carte CPS" in login_page and "Application e-CPS" in login_page
    # The e-CPS means cannot reach the card's level: it is shown as unavailable.
    assert 'href="' + start.headers["Location"] + '/ecps"' not in login_page
    mobile = browser.pick_identity(start.headers["Location"], PHARMACIST, "MOBILE")
    assert mobile.status_code == 400  # the picker refuses a weaker means for this page


def test_proof_must_be_signed_by_the_activated_key(app):
    browser = _card_session(app, PHARMACIST)
    code = _code(browser.http.get(PAGE).get_data(as_text=True))
    device, other = VirtualDevice.generate(), VirtualDevice.generate()
    response = app.test_client().post(
        "/ecps/api/v1/activations/card",
        json={
            "activation_code": code,
            "pin": "2580",
            "public_key": device.public_jwk,
            "proof": other.card_activation_proof(code),
        },
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_proof"


def test_command_line_activation_with_the_code(app, tmp_path):
    browser = _card_session(app, PHARMACIST)
    code = _code(browser.http.get(PAGE).get_data(as_text=True))
    app.extensions["psc_settings"].ecps_devices_dir = str(tmp_path)
    try:
        result = app.test_cli_runner().invoke(
            args=["ecps", "activate-with-code", code, "--pin", "1470", "--json"]
        )
    finally:
        app.extensions["psc_settings"].ecps_devices_dir = ""
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["national_id"] == PHARMACIST
