"""A professional logs in to a service provider in a real browser, keyboard first."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import pytest

from tests.relying_party import CALLBACK, callback_query, exchange_code, id_token_claims


def _authorize_url(server, **extra: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": "demo-web",
        "redirect_uri": CALLBACK,
        "scope": "openid scope_all",
        "state": "etat-navigateur",
        "nonce": secrets.token_urlsafe(8),
        "acr_values": "eidas1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.base_url}/wallet/auth?{urlencode(query)}", verifier


def _capture_callback(page) -> list[str]:
    """The SP is not running: answer its callback in the browser and remember the URL."""
    seen: list[str] = []

    def handle(route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Service : connecté</p>")

    page.route("http://localhost:3000/**", handle)
    return seen


@pytest.mark.e2e
def test_login_with_the_test_identity_picker(live_server, page, screenshot):
    seen = _capture_callback(page)
    url, verifier = _authorize_url(live_server, login_hint="899700218896")
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Service web de démonstration" in page.content()
    screenshot("01-mire")

    # Keyboard only: tab to the means, Enter.
    means = page.locator("a.means", has_text="Identité de test")
    for _ in range(15):
        page.keyboard.press("Tab")
        if means.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the test identity means is not reachable with the keyboard")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dev")
    # login_hint pre-selects the professional
    assert page.locator('input[name="national_id"][value="899700218896"]').is_checked()
    screenshot("02-test-identity-picker")
    page.locator('label[for="auth-mode-card"]').click()  # what a person clicks
    assert page.locator("#auth-mode-card").is_checked()
    page.get_by_role("button", name="Se connecter avec cette identité").click()
    page.wait_for_url(f"{CALLBACK}*")

    query = callback_query(seen[-1])
    assert query["state"] == "etat-navigateur" and query["iss"] == live_server.issuer
    tokens = exchange_code(live_server, query["code"], verifier)
    claims = id_token_claims(tokens)
    assert (claims["authMode"], claims["acr"]) == ("CARD", "eidas3")


@pytest.mark.e2e
def test_invalid_request_shows_a_french_page(live_server, page, screenshot):
    url, _ = _authorize_url(live_server, redirect_uri="https://evil.example/steal")
    response = page.goto(url)
    assert response.status == 400
    assert page.url.startswith(live_server.base_url)
    assert page.get_by_role("heading", name="Demande de connexion invalide").is_visible()
    screenshot("03-error-page")


@pytest.mark.e2e
def test_logout_asks_for_confirmation(live_server, page, screenshot):
    page.goto(f"{live_server.issuer}/protocol/openid-connect/logout")
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
    screenshot("04-logout-confirmation")
    page.get_by_role("button", name="Se déconnecter").click()
    # Wait for the answer to the form: content() while the page is navigating is empty.
    page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()
