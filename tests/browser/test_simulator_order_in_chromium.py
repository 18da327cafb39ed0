"""The simulator in a real browser: newest request on top; a request cancelled by the service
stays on screen a moment, marked as abandoned, before it goes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_ecps_simulator import (
    PHONE,
    _activate,
    _capture_callback,
    _request_card,
    _start_ecps_login,
)

DENTIST = "899700100235"


@pytest.mark.e2e
def test_newest_request_first_and_abandoned_ones_marked(live_server, page, screenshot):
    phone = page
    phone.set_viewport_size(PHONE)
    phone.goto(live_server.url("/ecps"))
    _activate(phone, DENTIST, "1357", "e-CPS de Thomas")

    first_sp = phone.context.new_page()
    _capture_callback(first_sp)
    first, _ = _start_ecps_login(first_sp, live_server, DENTIST)
    _request_card(phone, first)
    second_sp = phone.context.new_page()
    _capture_callback(second_sp)
    second, _ = _start_ecps_login(second_sp, live_server, DENTIST)
    _request_card(phone, second)

    cards = phone.locator("#request-list .ecps-request")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".ecps-request__binding")).to_have_text(second)
    expect(cards.nth(1).locator(".ecps-request__binding")).to_have_text(first)
    # Binding codes have two digits, so both requests may show the same one: the older card is
    # followed by its request id from here on.
    first_id = cards.nth(1).get_attribute("data-request-id")
    abandoned = phone.locator(f'.ecps-request[data-request-id="{first_id}"]')

    # The service gives up on the first request: the phone says so instead of dropping it.
    first_sp.get_by_role("button", name="Annuler la demande").click()
    expect(abandoned).to_be_visible()
    expect(abandoned.locator(".ecps-request__timer")).to_have_text("Demande abandonnée")
    expect(abandoned).to_have_class(re.compile(r"\becps-request--abandoned\b"))
    expect(abandoned.get_by_role("button", name="Approuver")).to_be_hidden()
    screenshot("10-ecps-simulator-abandoned-request")
    expect(abandoned).to_be_hidden(timeout=20_000)  # gone once read
    expect(cards).to_have_count(1)
