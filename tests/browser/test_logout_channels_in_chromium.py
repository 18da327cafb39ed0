"""Logout in a real browser against a real server: the logout page loads the service's
front-channel logout URI in its iframe (with iss and sid), then goes on to the service; the
server's own worker sends the back-channel logout token meanwhile."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

import pytest
import requests

from tests.browser.test_pages_under_csp import _violations
from tests.logout_receiver import LogoutReceiver
from tests.relying_party import CALLBACK, callback_query, run_cli

CLIENT_ID = "logout-channels"
AFTER_LOGOUT = "http://localhost:3000/"


@pytest.fixture
def receiver():
    made = LogoutReceiver()
    yield made
    made.close()


def _route_service(page) -> list[str]:
    """The service's callback and post-logout page, answered in the browser."""
    seen: list[str] = []

    def handle(route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Service</p>")

    page.route("http://localhost:3000/**", handle)
    return seen


def _log_in(server, page, seen: list[str], secret: str) -> dict:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid scope_all",
        "state": "etat",
        "nonce": secrets.token_urlsafe(8),
        "login_hint": "899700218896",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page.goto(f"{server.base_url}/wallet/auth?{urlencode(query)}")
    page.locator("a.means", has_text="Identité de test").click()
    page.wait_for_url("**/dev")
    page.get_by_role("button", name="Se connecter avec cette identité").click()
    page.wait_for_url(f"{CALLBACK}*")
    response = requests.post(
        f"{server.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": callback_query(seen[-1])["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.e2e
def test_logout_loads_the_frontchannel_frame_and_sends_the_logout_token(
    live_server, page, receiver
):
    secret = run_cli(
        live_server,
        "clients",
        "add",
        CLIENT_ID,
        "--redirect-uri",
        CALLBACK,
        "--post-logout-redirect-uri",
        AFTER_LOGOUT,
        "--frontchannel-logout-uri",
        receiver.url("/front/logout"),
        "--frontchannel-logout-session-required",
        "--backchannel-logout-uri",
        receiver.url("/back/logout"),
    )["client_secret"]
    seen = _route_service(page)
    violations = _violations(page)
    tokens = _log_in(live_server, page, seen, secret)

    logout = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": AFTER_LOGOUT,
        "state": "fin",
    }
    page.goto(f"{live_server.issuer}/protocol/openid-connect/logout?{urlencode(logout)}")
    page.wait_for_url(f"{AFTER_LOGOUT}?state=fin")  # the page went on once the frame loaded

    (front,) = [get for get in receiver.gets if get.path == "/front/logout"]
    assert front.form == {"iss": [live_server.issuer], "sid": [tokens["session_state"]]}
    assert violations == []  # the page's frame-src let the frame in, and its script run
    deadline = time.monotonic() + 15
    while not receiver.posts and time.monotonic() < deadline:
        time.sleep(0.1)
    (back,) = receiver.posts
    assert back.path == "/back/logout" and back.form["logout_token"]
