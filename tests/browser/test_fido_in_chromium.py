"""A FIDO2 security key in a real browser: Chromium's virtual authenticator (DevTools protocol,
``WebAuthn`` domain) stands for a USB key with a PIN. The professional logs in to the account
space with the e-CPS, enrols the key after approving on the e-CPS (here ``psc-idp ecps
approve``, as a CI job would), logs out, then logs in to a service with the key alone."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from tests.browser.test_login_in_chromium import CALLBACK, _authorize_url, _capture_callback
from tests.relying_party import callback_query, exchange_code, id_token_claims, run_cli

DOCTOR = "899700366240"  # as in tests/fido (whose keys he may already have, on PostgreSQL)
PIN = "1234"


def _approve_in_background(server, pool: ThreadPoolExecutor):
    """``psc-idp ecps approve`` waiting for the next request, as the phone would."""
    return pool.submit(run_cli, server, "ecps", "approve", DOCTOR, "--pin", PIN, "--wait", "20")


def _virtual_key(page) -> tuple[object, str]:
    """A USB security key with resident credentials and a PIN already typed."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


@pytest.mark.e2e
def test_enrol_a_key_then_log_in_with_it(live_server, page, screenshot):
    run_cli(live_server, "ecps", "activate", DOCTOR, "--pin", PIN)
    cdp, authenticator = _virtual_key(page)

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The account space, with the e-CPS.
        page.goto(live_server.url("/wallet/account"))
        page.locator("a.means", has_text="Application e-CPS").click()
        page.get_by_label("Identifiant national").fill(DOCTOR)
        approval = _approve_in_background(live_server, pool)
        page.get_by_role("button", name="Envoyer la demande sur mon e-CPS").click()
        expect(page).to_have_url(live_server.url("/wallet/account"), timeout=20_000)
        assert approval.result(timeout=30)["status"] == "approved"
        expect(page.get_by_text("Session ouverte avec : application e-CPS.")).to_be_visible()

        # « Ajouter une clé de sécurité »: approval first, on the e-CPS.
        page.get_by_role("link", name="Ajouter une clé de sécurité").click()
        approval = _approve_in_background(live_server, pool)
        page.get_by_role("button", name="Demander l'accord sur mon e-CPS").click()
        decided = approval.result(timeout=30)
        assert decided["status"] == "approved"
        assert decided["client_name"] == "Activation d'une clé de sécurité"
    # The waiting page notices the answer by itself and offers the key.
    register = page.get_by_role("button", name="Enregistrer ma clé")
    expect(register).to_be_visible(timeout=15_000)
    page.get_by_label("Nom de la clé").fill("Clé USB de l'officine")
    screenshot("08-fido-enrolment")
    register.click()

    expect(page).to_have_url(live_server.url("/wallet/account"), timeout=15_000)
    key = page.locator(".device", has_text="Clé USB de l'officine")
    expect(key).to_be_visible()
    expect(key.locator(".tag")).to_have_text("active")
    expect(page.get_by_text("Clé de sécurité enregistrée").first).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]

    # Log out of the wallet.
    page.goto(f"{live_server.issuer}/protocol/openid-connect/logout")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("déconnecté")).to_be_visible()

    # A service asks for eidas2: the key alone, no identifier typed (discoverable credential).
    seen = _capture_callback(page)
    url, verifier = _authorize_url(live_server, acr_values="eidas2")
    page.goto(url)
    page.locator("a.means", has_text="Clé de sécurité FIDO").click()
    expect(page.get_by_role("heading", name="Connexion avec une clé de sécurité")).to_be_visible()
    screenshot("09-fido-login")
    page.get_by_role("button", name="Utiliser ma clé de sécurité").click()
    expect(page).to_have_url(re.compile("^" + re.escape(CALLBACK)), timeout=15_000)

    tokens = exchange_code(live_server, callback_query(seen[-1])["code"], verifier)
    claims = id_token_claims(tokens)
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        DOCTOR,
        "FIDO",
        "eidas2",
    )
    used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert used["credentials"][0]["signCount"] >= 1
