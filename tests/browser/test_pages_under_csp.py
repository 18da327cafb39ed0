"""The pages work under the Content-Security-Policy in a real browser (a violation would stop
a script), and the cookies' SameSite=Lax still lets the cross-site flows through: form_post
back to the service, and a service's logout form posted from its own site."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

import pytest
import requests

from tests.browser.test_login_in_chromium import _authorize_url
from tests.relying_party import CALLBACK, exchange_code

pytestmark = pytest.mark.e2e

SERVICE_PAGE = "http://service.example/deconnexion"  # another site than the IdP's


def _violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def _serve_service(page) -> list[tuple[str, str, str]]:
    """The service (not running) answers in the browser: its callback, its logout page."""
    calls: list[tuple[str, str, str]] = []

    def handle(route) -> None:
        request = route.request
        calls.append((request.method, request.url, request.post_data or ""))
        route.fulfill(status=200, content_type="text/html", body="<p>Service</p>")

    page.route("http://localhost:3000/**", handle)
    return calls


def _log_in_with_form_post(live_server, page, calls) -> dict[str, str]:
    url, verifier = _authorize_url(
        live_server, response_mode="form_post", login_hint="899700218896"
    )
    page.goto(url)
    page.locator("a.means", has_text="Identité de test").click()
    page.wait_for_url("**/dev")
    page.get_by_role("button", name="Se connecter avec cette identité").click()
    page.wait_for_url(f"{CALLBACK}*")
    method, seen_url, body = calls[-1]
    assert (method, seen_url) == ("POST", CALLBACK)  # sent by static/js/form-post.js
    form = {name: values[0] for name, values in parse_qs(body).items()}
    return exchange_code(live_server, form["code"], verifier)


def test_form_post_and_cross_site_logout_under_the_policy(live_server, page):
    violations = _violations(page)
    calls = _serve_service(page)
    tokens = _log_in_with_form_post(live_server, page, calls)

    logout = f"{live_server.issuer}/protocol/openid-connect/logout"
    form = (
        f'<form method="post" action="{escape(logout)}">'
        f'<input type="hidden" name="id_token_hint" value="{escape(tokens["id_token"])}">'
        '<input type="hidden" name="post_logout_redirect_uri" value="http://localhost:3000/">'
        '<button type="submit">Se déconnecter du service</button></form>'
    )
    page.route(
        SERVICE_PAGE,
        lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=form),
    )
    page.goto(SERVICE_PAGE)
    page.get_by_role("button", name="Se déconnecter du service").click()
    page.wait_for_url("http://localhost:3000/")

    # The session is over: its refresh token no longer works.
    refresh = requests.post(
        f"{live_server.issuer}/protocol/openid-connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("demo-web", live_server.demo_secret("demo-web")),
        timeout=10,
    )
    assert refresh.json()["error"] == "invalid_grant"
    assert violations == []


def test_authorization_posted_from_another_site_completes(live_server, page):
    """A service may post its authorization request (OIDC Core §3.1.2.1). psc-idp's cookies
    are SameSite=Lax, so the browser sends none with that cross-site POST: the login binding
    is issued anew and the login goes through la mire."""
    violations = _violations(page)
    calls = _serve_service(page)
    url, verifier = _authorize_url(live_server, login_hint="899700218896")
    endpoint, query = url.split("?", 1)
    fields = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(values[0])}">'
        for name, values in parse_qs(query).items()
    )
    form = (
        f'<form method="post" action="{escape(endpoint)}">{fields}'
        '<button type="submit">Se connecter avec Pro Santé Connect</button></form>'
    )
    page.route(
        SERVICE_PAGE,
        lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=form),
    )
    page.goto(SERVICE_PAGE)
    page.get_by_role("button", name="Se connecter avec Pro Santé Connect").click()
    page.locator("a.means", has_text="Identité de test").click()
    page.wait_for_url("**/dev")
    page.get_by_role("button", name="Se connecter avec cette identité").click()
    page.wait_for_url(f"{CALLBACK}*")
    query_seen = parse_qs(calls[-1][1].split("?", 1)[1])
    assert "code" in query_seen
    assert exchange_code(live_server, query_seen["code"][0], verifier)["id_token"]
    assert violations == []
