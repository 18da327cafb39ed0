"""The request journal in a real browser: a login without a nonce, then its warning read on
/dev/requests, reached with the keyboard."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.cluster import live_deployment
from tests.relying_party import CALLBACK


@pytest.fixture(scope="module")
def journal_server(database_url: str) -> Iterator[object]:
    env = {"PSC_REQUEST_JOURNAL": "1"}
    if database_url.startswith("postgresql"):
        env["PSC_DATABASE_URL"] = database_url
    with live_deployment(env) as server:
        yield server


@pytest.mark.e2e
def test_a_login_without_nonce_is_flagged_on_the_journal_page(journal_server, page, screenshot):
    seen: list[str] = []

    def callback(route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Service : connecté</p>")

    page.route("http://localhost:3000/**", callback)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": "demo-web",
        "redirect_uri": CALLBACK,
        "scope": "openid scope_all",
        "state": "etat-journal",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "login_hint": "899700218896",
    }  # no nonce: accepted, but worth telling
    page.goto(f"{journal_server.base_url}/wallet/auth?{urlencode(query)}")
    page.locator("a.means", has_text="Identité de test").click()
    page.get_by_role("button", name="Se connecter avec cette identité").click()
    page.wait_for_url(f"{CALLBACK}*")
    assert seen and "code=" in seen[-1]

    page.goto(journal_server.url("/dev/requests"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal des requêtes")
    link = page.get_by_role("link", name="demo-web", exact=True)
    link.focus()
    link.press("Enter")
    page.wait_for_url("**/dev/requests/demo-web")
    table = page.get_by_role("table", name="Requêtes journalisées du client demo-web")
    expect(table).to_be_visible()
    warning = table.locator(".check--warning", has_text="nonce absent").first
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Avertissement")
    details = table.locator("details").first
    details.locator("summary").focus()
    page.keyboard.press("Enter")  # expands with the keyboard
    expect(details.get_by_text("Reçu par le service")).to_be_visible()
    screenshot("30-request-journal")
