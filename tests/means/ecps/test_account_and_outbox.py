"""The account page lists and revokes e-CPS devices; the dev outbox shows activation codes."""

from __future__ import annotations

import re

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsDevice
from tests.helpers import Browser
from tests.means.ecps.helpers import activate_by_contact

KINE = "899700100565"


def _log_in_to_account(app, national_id: str) -> Browser:
    browser = Browser(app)
    start = browser.http.get("/wallet/account")
    assert start.status_code == 302 and "/wallet/login/" in start.headers["Location"]
    done = browser.pick_identity(start.headers["Location"], national_id, "CARD")
    assert done.headers["Location"] == "/wallet/account"
    return browser


def test_account_lists_and_revokes_devices(app):
    phone = activate_by_contact(app, KINE)
    browser = _log_in_to_account(app, KINE)
    page = browser.http.get("/wallet/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Téléphone de test" in html and "e-CPS activée" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    device_id = phone.device.device_id
    renamed = browser.http.post(
        f"/wallet/account/devices/{device_id}/rename",
        data={"csrf_token": csrf, "name": "Mon iPhone"},
    )
    assert renamed.status_code == 302
    assert "Mon iPhone" in browser.http.get("/wallet/account").get_data(as_text=True)
    forged = browser.http.post(f"/wallet/account/devices/{device_id}/revoke", data={})
    assert forged.status_code == 400
    revoked = browser.http.post(
        f"/wallet/account/devices/{device_id}/revoke", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 302
    with app.app_context():
        assert db.session.get(EcpsDevice, device_id).status == "revoked"
    assert phone.call("GET", "/requests").status_code == 401


def test_someone_else_cannot_touch_my_device(app):
    phone = activate_by_contact(app, KINE)
    activate_by_contact(app, "899700100649")  # the intruder has a device of their own
    intruder = _log_in_to_account(app, "899700100649")
    html = intruder.http.get("/wallet/account").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = intruder.http.post(
        f"/wallet/account/devices/{phone.device.device_id}/revoke", data={"csrf_token": csrf}
    )
    assert response.status_code == 404


def test_dev_outbox_shows_the_codes(app):
    app.test_client().post("/ecps/api/v1/activations", json={"national_id": KINE})
    page = app.test_client().get(f"/dev/outbox?national_id={KINE}").get_data(as_text=True)
    assert "Courriel" in page and "SMS" in page
    assert re.search(r"\b\d{6}\b", page)


def test_dev_outbox_does_not_exist_outside_dev_mode(make_app):
    app = make_app(dev_mode=False)
    assert app.test_client().get("/dev/outbox").status_code == 404
    cli = app.test_cli_runner().invoke(args=["outbox", "--json"])
    assert cli.exit_code == 0  # the CLI stays: operators may read the outbox table
