"""The admin console in a real browser: an administrator created with the CLI logs in with a
TOTP code computed here, creates a client and rotates the signing keys with the keyboard; the
fields are found by their labels (what a screen reader announces)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.tools import add_admin, csp_violations, fill_admin_login, press

DOCTOR = "899700218896"


@pytest.mark.e2e
def test_log_in_create_a_client_and_rotate_keys_with_the_keyboard(live_server, page, screenshot):
    login, totp = add_admin(live_server)
    violations = csp_violations(page)
    page.goto(live_server.url("/admin/clients"))
    expect(page).to_have_url(live_server.url("/admin/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Console d'administration")
    screenshot("14-admin-login")
    fill_admin_login(page, live_server, login, totp)
    expect(page.get_by_text(f"Connecté : {login}")).to_be_visible()

    # Clients: create one with the keyboard only.
    press(
        page.get_by_role("navigation", name="Console d'administration").get_by_role(
            "link", name="Clients"
        )
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")
    screenshot("15-admin-clients")
    press(page.get_by_role("link", name="Créer un client"))
    client_id = f"sp-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Identifiant du client (client_id)").fill(client_id)
    page.get_by_label("Nom affiché").fill("Service créé dans Chromium")
    method = page.get_by_label("Méthode d'authentification au point de jeton")
    method.select_option("client_secret_post")
    page.get_by_label("URI de retour (une par ligne, exactes)").fill("https://sp.example/cb")
    expect(page.get_by_role("group", name="Types d'autorisation (grant types)")).to_be_visible()
    expect(page.get_by_label("authorization_code")).to_be_checked()
    press(page.get_by_label("client_credentials"), " ")  # Space ticks a checkbox
    expect(page.get_by_label("client_credentials")).to_be_checked()
    press(page.get_by_role("button", name="Créer le client"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(client_id)
    secret = page.locator("#client-secret").inner_text()
    assert len(secret) >= 32
    screenshot("16-admin-client-created")
    page.goto(live_server.url("/admin/clients"))
    expect(page.get_by_role("button", name=f"Désactiver {client_id}")).to_be_visible()
    assert secret not in page.content()  # shown once

    # Signing keys: rotate, confirm, with the keyboard.
    page.goto(live_server.url("/admin/keys"))
    before = page.locator("tbody tr").filter(has_text="active").count()
    press(page.get_by_label("ES256"), " ")
    press(page.get_by_role("button", name="Renouveler les clés"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer l'action")
    press(page.get_by_role("button", name="Confirmer"))
    expect(page).to_have_url(live_server.url("/admin/keys"))
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="active")).to_have_count(before)  # one new ES256 key active
    expect(rows.filter(has_text="ES256")).to_have_count(2)  # and the old one still published
    screenshot("17-admin-keys")

    # A professional, then the audit trail showing what was done.
    page.goto(live_server.url("/admin/professionals"))
    page.get_by_label("Identifiant national ou nom").fill(DOCTOR)
    page.get_by_label("Identifiant national ou nom").press("Enter")
    press(page.get_by_role("link", name=DOCTOR))
    expect(page.get_by_label("UserInfo")).to_contain_text("SubjectRefPro")
    screenshot("18-admin-professional")
    page.goto(live_server.url("/admin/audit"))
    page.get_by_label("Client").fill(client_id)
    page.get_by_label("Client").press("Enter")
    expect(page.locator("tbody")).to_contain_text("admin_client_created")
    expect(page.locator("tbody")).to_contain_text(f"actor={login}")
    screenshot("19-admin-audit")
    press(page.get_by_role("button", name="Se déconnecter"))
    expect(page).to_have_url(live_server.url("/admin/login"))
    assert violations == []
