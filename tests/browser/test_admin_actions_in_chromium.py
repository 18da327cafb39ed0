"""The admin console's actions on a professional and on a client, in a real browser and with the
keyboard only: revoke an e-CPS application, deactivate then reactivate a professional, disable
then enable a client, each confirmed on its page and found in the audit trail."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.tools import log_in_as_new_admin, press
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

PROFESSIONAL = "899700366240"  # Dr Kit DOC0036624: no other browser test uses his e-CPS


def _confirm(page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer l'action")
    press(page.get_by_role("button", name="Confirmer"))


def test_revoke_deactivate_reactivate_and_disable_with_the_keyboard(live_server, page):
    run_cli(live_server, "ecps", "activate", PROFESSIONAL, "--pin", "1234")
    client_id = f"sp-{uuid.uuid4().hex[:6]}"
    run_cli(live_server, "clients", "add", client_id, "--redirect-uri", "https://sp.example/cb")
    login = log_in_as_new_admin(page, live_server)

    page.goto(live_server.url(f"/admin/professionals/{PROFESSIONAL}"))
    applications = page.get_by_role("table", name="Applications e-CPS")
    revoke = applications.get_by_role("button", name=re.compile("^Révoquer "))
    expect(revoke).to_have_count(1)
    press(revoke)
    _confirm(page)  # destructive: asked first
    expect(page).to_have_url(live_server.url(f"/admin/professionals/{PROFESSIONAL}"))
    expect(applications.locator("tbody tr").first).to_contain_text("révoquée")
    expect(applications.get_by_role("button", name=re.compile("^Révoquer "))).to_have_count(0)

    press(page.get_by_role("button", name="Désactiver le professionnel"))
    _confirm(page)
    expect(page.locator(".tag--inactive")).to_have_text("désactivé")
    press(page.get_by_role("button", name="Réactiver le professionnel"))  # not destructive
    expect(page.get_by_role("button", name="Désactiver le professionnel")).to_be_visible()

    page.goto(live_server.url("/admin/clients"))
    press(page.get_by_role("button", name=f"Désactiver {client_id}"))
    _confirm(page)
    press(page.get_by_role("button", name=f"Réactiver {client_id}"))
    expect(page.get_by_role("button", name=f"Désactiver {client_id}")).to_be_visible()

    page.goto(live_server.url(f"/admin/audit?national_id={PROFESSIONAL}"))
    trail = page.locator("tbody")
    for kind in (
        "admin_device_revoked",
        "admin_professional_deactivated",
        "admin_professional_reactivated",
    ):
        expect(trail).to_contain_text(kind)
    expect(trail).to_contain_text(f"actor={login}")
    page.goto(live_server.url(f"/admin/audit?client_id={client_id}"))
    for kind in ("admin_client_disabled", "admin_client_enabled"):
        expect(page.locator("tbody")).to_contain_text(kind)
