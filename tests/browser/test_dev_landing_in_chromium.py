"""The development landing page in a real browser, reached and used with the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.e2e
def test_landing_page_links_to_discovery_and_tools(live_server, page, screenshot):
    page.goto(live_server.url("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("psc-idp en mode développement")
    expect(page.locator(".dev-clients")).to_contain_text("demo-spa")
    screenshot("11-dev-landing")
    discovery = page.get_by_role(
        "link", name=live_server.url("/auth/realms/esante-wallet/.well-known/openid-configuration")
    )
    discovery.focus()
    discovery.press("Enter")
    expect(page.locator("body")).to_contain_text('"issuer"')
    page.go_back()
    page.get_by_role("link", name="Simulateur e-CPS (téléphone dans un onglet)").press("Enter")
    expect(page).to_have_url(live_server.url("/ecps/"))
