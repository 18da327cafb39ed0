"""A DPI's CIBA request approved by a professional in the e-CPS simulator, in a real browser:
the phone shows « Demande de connexion depuis un logiciel » with the DPI's binding message."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_ecps_simulator import PHONE, _activate, _approve_with, _request_card
from tests.relying_party import id_token_claims, run_cli

NURSE = "899700100490"
GRANT = "urn:openid:params:grant-type:ciba"


@pytest.mark.e2e
def test_ciba_request_approved_in_the_simulator(live_server, page):
    secret = run_cli(
        live_server, "clients", "add", "dpi-browser", "--name", "DPI du CHU", "--grant-type", GRANT
    )["client_secret"]
    page.set_viewport_size(PHONE)
    page.goto(live_server.url("/ecps"))
    _activate(page, NURSE, "4321", "Téléphone de Julien")
    asked = requests.post(
        f"{live_server.issuer}/protocol/openid-connect/ext/ciba/auth",
        data={"scope": "openid scope_all", "login_hint": NURSE, "binding_message": "58"},
        auth=("dpi-browser", secret),
        timeout=10,
    ).json()
    card = _request_card(page, "58")
    expect(card).to_contain_text("Demande de connexion depuis un logiciel")
    _approve_with(card, "4321")
    expect(page.locator("#device-status")).to_contain_text("Demande approuvée")
    deadline = time.monotonic() + 20
    while True:
        tokens = requests.post(
            f"{live_server.issuer}/protocol/openid-connect/token",
            data={"grant_type": GRANT, "auth_req_id": asked["auth_req_id"]},
            auth=("dpi-browser", secret),
            timeout=10,
        ).json()
        if "id_token" in tokens or time.monotonic() > deadline:
            break
        time.sleep(asked["interval"])
    claims = id_token_claims(tokens)
    assert (claims["SubjectNameID"], claims["authMode"]) == (NURSE, "MOBILE")
