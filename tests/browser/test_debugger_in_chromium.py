"""/dev/debugger in a real browser, used with the keyboard only, under the CSP: the code flow
through la mire's test identity picker, and CIBA polled by the page's script until the tokens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.tools import csp_violations, debugger_code_flow

pytestmark = pytest.mark.e2e


def _type_into(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _token_screenshot(page, name: str) -> None:
    """The ID token's block (signature, header, claims, their meanings): the whole run page
    would be a long image of every header."""
    folder = os.environ.get("PSC_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.locator(".debugger-token").first.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_code_flow_through_the_page_with_the_keyboard(live_server, page, screenshot):
    violations = csp_violations(page)
    page.goto(live_server.url("/dev/debugger/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Débogueur")
    expect(page.get_by_label("Client enregistré")).to_have_value("demo-debugger")
    screenshot("12-debugger-form")
    debugger_code_flow(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Code d'autorisation + PKCE")
    expect(page.get_by_role("heading", name="3. Échange du code (token)")).to_be_visible()
    expect(page.locator(".debugger-signature.valid").first).to_contain_text("Signature valide")
    expect(page.locator(".debugger-checks-list .ko")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("application e-CPS sur le téléphone")
    _token_screenshot(page, "13-debugger-run")

    page.get_by_role("button", name="Appeler UserInfo").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="4. UserInfo")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Situation professionnelle complète")
    assert violations == []


def test_ciba_polled_by_the_page_until_the_tokens(live_server, page):
    violations = csp_violations(page)
    page.goto(live_server.url("/dev/debugger/"))
    page.get_by_label("CIBA : demande puis interrogation jusqu'au résultat").focus()
    page.keyboard.press("Space")
    _type_into(page, "login_hint (identifiant national)", "899700100565")  # approves after 2 s
    page.get_by_role("button", name="Lancer le flux").focus()
    page.keyboard.press("Enter")

    page.wait_for_url("**/dev/debugger/runs/*")
    expect(page.get_by_role("heading", name="1. Demande CIBA (backchannel)")).to_be_visible()
    expect(page.locator("#ciba-status")).to_contain_text("prochaine interrogation")
    # The page's script polls after the interval; the request is approved by then.
    expect(page.locator("#ciba-poll")).to_have_count(0, timeout=40_000)
    expect(page.get_by_role("heading", name="2. Interrogation n° 1")).to_be_visible()
    expect(page.locator(".debugger-signature.valid").first).to_contain_text("Signature valide")
    expect(page.locator("main")).to_contain_text('"authMode": "MOBILE"')
    assert violations == []
