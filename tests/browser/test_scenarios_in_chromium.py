"""The development tools joined, in a real browser with the keyboard: an administrator adds a
token-endpoint error scenario for the debugger's client in the console, the debugger's code
flow then shows the error and names the scenario; the scenario is removed after confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.tools import csp_violations, debugger_code_flow, log_in_as_new_admin, press

CLIENT = "demo-debugger"


def _choose(page, label: str, typed: str, value: str) -> None:
    """A select chosen by typing its option's first letters (Chromium's type-ahead)."""
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.type(typed)
    expect(field).to_have_value(value)


@pytest.mark.e2e
def test_a_scenario_added_in_the_console_shows_in_the_debugger(live_server, page, screenshot):
    violations = csp_violations(page)
    log_in_as_new_admin(page, live_server)

    # The scenarios page, from the console's navigation, with the keyboard.
    nav = page.get_by_role("navigation", name="Console d'administration")
    press(nav.get_by_role("link", name="Scénarios d'erreur"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Scénarios d'erreur")
    expect(page.locator(".notice--info")).to_contain_text("PSC_SCENARIOS activé")
    _choose(page, "Client", CLIENT, CLIENT)
    press(page.get_by_role("button", name="Afficher ses scénarios"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Scénarios d'erreur de {CLIENT}")
    expect(page.get_by_text("Aucun scénario pour ce client.")).to_be_visible()
    _choose(page, "Point d'accès", "token", "token")
    _choose(page, "Effet", "erreur", "error")
    value = page.get_by_label("Valeur", exact=True)
    value.focus()
    page.keyboard.type("invalid_grant")
    page.keyboard.press("Enter")  # submits the add form
    row = page.locator("tbody tr").filter(has_text="invalid_grant")
    expect(row).to_contain_text("token : répond l'erreur invalid_grant (tous les professionnels)")
    scenario = row.locator("td").first.inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{8}", scenario)
    screenshot("20-admin-scenarios")

    # The debugger's code flow, with the keyboard: the token exchange gets the scenario's error.
    debugger_code_flow(page, live_server)  # the debugger's own client, chosen by default

    scenarios = page.get_by_role("region", name="Scénarios d'erreur du client")
    expect(scenarios).to_contain_text(f"{scenario} — point d'accès token, effet error")
    exchange = page.get_by_role("region", name="3. Échange du code (token)")
    expect(exchange.locator(".debugger-status")).to_have_text("400 Bad Request")
    expect(exchange.locator(".debugger-body").first).to_contain_text('"error": "invalid_grant"')
    expect(exchange.locator(".debugger-scenario-applied")).to_have_text(
        f"Réponse modifiée par le scénario {scenario} : token : répond l'erreur invalid_grant"
        " (tous les professionnels)."
    )
    expect(page.locator(".debugger-signature")).to_have_count(0)  # no token came

    # Back to the console: remove it, confirmed, with the keyboard.
    page.goto(live_server.url(f"/admin/scenarios?client_id={CLIENT}"))
    press(page.get_by_role("button", name=f"Retirer le scénario {scenario}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer l'action")
    press(page.get_by_role("button", name="Confirmer"))
    expect(page.get_by_text("Aucun scénario pour ce client.")).to_be_visible()
    assert violations == []
