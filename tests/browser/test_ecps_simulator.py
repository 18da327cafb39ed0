"""The e-CPS simulator (/ecps) in a real browser: one tab is the phone, another one logs in.

Both tabs share one browser context, as a developer's two tabs do; the simulator keeps its keys
in that context's IndexedDB, and a new context starts with no e-CPS."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.test_login_in_chromium import CALLBACK, _authorize_url, _capture_callback
from tests.relying_party import callback_query, exchange_code, id_token_claims

MIDWIFE = "899700100318"
NURSE = "899700100490"
PHONE = {"width": 390, "height": 844}
OUTBOX_LINK = "Voir les codes reçus (mode développement)"


def _screenshot_of(tab: Page, name: str) -> None:
    """The ``screenshot`` fixture for a tab other than ``page``."""
    folder = os.environ.get("PSC_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _codes_in_outbox(outbox: Page) -> dict[str, str]:
    """The newest e-mail and SMS codes listed by /dev/outbox (newest first)."""
    codes: dict[str, str] = {}
    for message in outbox.locator(".outbox__message").all():
        channel = message.locator("strong").first.inner_text().strip().lower()
        code = re.search(r"\b(\d{6})\b", message.locator("pre").inner_text())
        if code:
            codes.setdefault("sms" if channel == "sms" else "email", code.group(1))
    return codes


def _activate(phone: Page, national_id: str, pin: str, name: str) -> None:
    """Activate an e-CPS in the simulator, reading the codes in the development outbox."""
    phone.get_by_role("link", name="Activer une e-CPS").click()
    phone.get_by_label("Identifiant national").fill(national_id)
    phone.get_by_role("button", name="Recevoir les codes").click()
    with phone.context.expect_page() as opened:
        phone.get_by_role("link", name=OUTBOX_LINK).click()
    outbox = opened.value
    outbox.wait_for_load_state()
    assert f"national_id={national_id}" in outbox.url
    codes = _codes_in_outbox(outbox)
    outbox.close()
    phone.get_by_label("Code reçu par courriel").fill(codes["email"])
    phone.get_by_label("Code reçu par SMS").fill(codes["sms"])
    phone.get_by_role("button", name="Continuer").click()
    phone.get_by_label("Choisissez un code PIN").fill(pin)
    phone.get_by_label("Confirmez le code PIN").fill(pin)
    phone.get_by_label("Nom de cette e-CPS").fill(name)
    phone.get_by_role("button", name="Activer l'e-CPS").click()
    expect(phone.get_by_text("e-CPS activée")).to_be_visible()
    phone.get_by_role("link", name="Voir les demandes").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(name)
    expect(phone.locator("#device-state")).to_have_text("Active")


def _start_ecps_login(sp: Page, server, national_id: str, **extra: str) -> tuple[str, str]:
    """La mire → « Application e-CPS » → national id; returns (binding code, PKCE verifier)."""
    url, verifier = _authorize_url(server, **extra)
    sp.goto(url)
    sp.locator("a.means", has_text="Application e-CPS").click()
    sp.get_by_label("Identifiant national").fill(national_id)
    sp.get_by_role("button", name="Envoyer la demande sur mon e-CPS").click()
    waiting = sp.get_by_role("heading", name="Validez la connexion sur votre téléphone")
    expect(waiting).to_be_visible()
    return sp.locator(".binding-code").inner_text().strip(), verifier


def _request_card(phone: Page, binding: str):
    card = phone.locator(".ecps-request").filter(
        has=phone.locator(".ecps-request__binding", has_text=binding)
    )
    expect(card).to_be_visible(timeout=15_000)
    return card


def _approve_with(card, pin: str) -> None:
    """Approuver, then the PIN, with the keyboard only (the PIN field gets the focus)."""
    approve = card.get_by_role("button", name="Approuver")
    if approve.is_visible():
        approve.press("Enter")
    field = card.get_by_label("Code PIN")
    expect(field).to_be_focused()
    field.press_sequentially(pin)
    field.press("Enter")


@pytest.mark.e2e
def test_login_approved_in_the_simulator(live_server, page, screenshot):
    phone = page
    phone.set_viewport_size(PHONE)
    phone.goto(live_server.url("/ecps"))
    assert phone.locator("html").get_attribute("lang") == "fr"
    expect(phone.get_by_role("heading", name="Mes e-CPS")).to_be_visible()
    _activate(phone, MIDWIFE, "1234", "Téléphone d'Amina")

    # The key is kept in IndexedDB as a CryptoKey that nobody can export.
    key = phone.evaluate(
        """() => new Promise((resolve, reject) => {
            const opening = indexedDB.open("psc-idp-ecps-simulator");
            opening.onerror = () => reject(opening.error);
            opening.onsuccess = () => {
                const read = opening.result.transaction("devices").objectStore("devices").getAll();
                read.onsuccess = () => {
                    const k = read.result[0].privateKey;
                    resolve({type: k.type, extractable: k.extractable, name: k.algorithm.name});
                };
            };
        })"""
    )
    assert key == {"type": "private", "extractable": False, "name": "ECDSA"}

    sp = phone.context.new_page()
    seen = _capture_callback(sp)
    binding, verifier = _start_ecps_login(sp, live_server, MIDWIFE)
    _screenshot_of(sp, "06-ecps-waiting-page")

    card = _request_card(phone, binding)
    expect(card.get_by_role("heading")).to_have_text("Connexion à Service web de démonstration")
    expect(card.locator(".ecps-request__timer")).to_contain_text("Expire dans")
    screenshot("05-ecps-simulator-request")

    _approve_with(card, "0000")
    expect(card.get_by_role("alert")).to_have_text(
        "Code PIN erroné. Il vous reste 2 essais avant le verrouillage de l'e-CPS."
    )
    _approve_with(card, "1234")
    expect(phone.locator("#device-status")).to_contain_text("Demande approuvée")

    # The waiting page notices the approval by itself and goes on to the service. (Not
    # wait_for_url: while it waits, Playwright lets the routed callback fail to connect.)
    expect(sp).to_have_url(re.compile("^" + re.escape(CALLBACK)), timeout=15_000)
    query = callback_query(seen[-1])
    tokens = exchange_code(live_server, query["code"], verifier)
    claims = id_token_claims(tokens)
    assert (claims["authMode"], claims["acr"], claims["SubjectNameID"]) == (
        "MOBILE",
        "eidas1",
        MIDWIFE,
    )

    # The phone goes on listening after an answer: the next login shows up by itself. Ending
    # with a request on screen also leaves no long poll running on the server, which would
    # hold up its shutdown for up to 25 s.
    second, _ = _start_ecps_login(sp, live_server, MIDWIFE, prompt="login")
    _request_card(phone, second)


@pytest.mark.e2e
def test_wrong_pins_lock_the_simulated_ecps_then_it_is_deleted(live_server, page):
    phone = page
    phone.set_viewport_size(PHONE)
    phone.goto(live_server.url("/ecps"))
    _activate(phone, NURSE, "2468", "e-CPS de Julien")

    sp = phone.context.new_page()
    _capture_callback(sp)
    binding, _ = _start_ecps_login(sp, live_server, NURSE)
    card = _request_card(phone, binding)
    for pin, left in (("0000", "2 essais"), ("0001", "1 essai ")):
        _approve_with(card, pin)
        expect(card.get_by_role("alert")).to_contain_text(f"Code PIN erroné. Il vous reste {left}")
    _approve_with(card, "0002")
    expect(phone.locator("#device-alert")).to_contain_text("Cette e-CPS est verrouillée")
    expect(phone.locator("#device-state")).to_have_text("Verrouillée")
    expect(card).to_be_hidden()

    # Keyboard only from here; it also spares the rendering frames Playwright waits for before
    # a click, which a tab behind another one hardly gets.
    phone.get_by_role("link", name="‹ Mes e-CPS").first.press("Enter")
    device = phone.locator("#device-list a", has_text="e-CPS de Julien")
    expect(device).to_contain_text("Verrouillée")

    device.press("Enter")
    phone.get_by_role("button", name="Supprimer cette e-CPS").press("Enter")
    expect(phone.get_by_text("Cette action est définitive")).to_be_focused()
    phone.get_by_role("button", name="Supprimer définitivement").press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Mes e-CPS")
    expect(phone.locator("#home-status")).to_contain_text("« e-CPS de Julien » a été supprimée")
    expect(phone.locator("#device-list a")).to_have_count(0)


@pytest.mark.e2e
def test_activation_with_the_card_page_qr_code(live_server, chromium, screenshot):
    """Log in to the account space with the card (simulated in dev mode), open the QR code's
    link in the simulator, choose a PIN: the e-CPS is active, activated by card."""
    context = chromium.new_context(locale="fr-FR", viewport=PHONE)
    try:
        tab = context.new_page()
        tab.goto(live_server.url("/wallet/account/ecps/card-activation"))
        tab.locator("a.means", has_text="Identité de test").click()
        tab.locator('input[name="national_id_typed"]').fill("899700100235")
        tab.locator('label[for="auth-mode-card"]').click()
        tab.get_by_role("button", name="Se connecter avec cette identité").click()
        expect(
            tab.get_by_role("heading", name="Activer une e-CPS avec votre carte CPS")
        ).to_be_visible()
        assert tab.locator(".qr svg").count() == 1
        _screenshot_of(tab, "07-ecps-activation-with-card")
        code = tab.locator("#activation-code").inner_text().strip()
        tab.get_by_role("link", name="simulateur e-CPS").click()
        expect(tab.get_by_label("Choisissez un code PIN")).to_be_visible()
        tab.get_by_label("Choisissez un code PIN").fill("8642")
        tab.get_by_label("Confirmez le code PIN").fill("8642")
        tab.get_by_label("Nom de cette e-CPS").fill("Téléphone activé par carte")
        tab.get_by_role("button", name="Activer l'e-CPS").click()
        expect(tab.get_by_text("e-CPS activée")).to_be_visible()
        assert code  # the same single-use code cannot serve twice:
        again = requests.post(
            live_server.url("/ecps/api/v1/activations/card"),
            json={"activation_code": code, "pin": "1111", "public_key": {}, "proof": "x.y.z"},
            timeout=10,
        )
        assert again.status_code == 400
    finally:
        context.close()
