"""Every response carries the security headers: each GET route of the app is walked (from
``app.url_map``, so a new page is covered without being listed here), anonymously and within
an SSO session, plus the protocol's JSON answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, url_for

from psc_idp.config import PROJECT_ROOT
from tests.helpers import LOGOUT, TOKEN, Browser, TestClients, login_and_get_tokens, pkce_pair

#: A value for each URL argument; the others get a value no row has (an error page then).
ARGUMENTS = {"filename": "css/wallet.css"}

COMMON = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _get_urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {name: ARGUMENTS.get(name, "inconnu") for name in rule.arguments}
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


def _directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def assert_secure_headers(response, url: str) -> None:
    assert response.status_code < 500, url
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (url, name)
    policy = _directives(response.headers.get("Content-Security-Policy", ""))
    assert policy.get("frame-ancestors") == "'none'", url
    assert policy.get("object-src", policy["default-src"]) == "'none'", url
    assert policy.get("base-uri") == "'none'", url
    scripts = policy.get("script-src", policy["default-src"])
    assert scripts == "'self'", url  # no 'unsafe-inline', no other origin
    assert "unsafe-inline" not in policy.get("style-src", ""), url
    assert "Strict-Transport-Security" not in response.headers, url  # plain http here


@pytest.fixture(scope="module")
def logged_in(app: Flask) -> Browser:
    browser = Browser(app)
    login_and_get_tokens(app, browser, TestClients.ensure(app).web)
    return browser


def test_every_get_route_sends_the_headers(app, clients, logged_in):
    urls = _get_urls(app)
    assert len(urls) > 20  # the walk reaches the whole app, not a handful of routes
    for url in urls:
        assert_secure_headers(app.test_client().get(url), url)
        assert_secure_headers(logged_in.http.get(url), url)


def test_framed_pages_of_the_issue_are_covered(app, logged_in):
    # The card CIBA approval page and the account page could be framed before.
    for url in ("/wallet/ciba", "/wallet/account"):
        assert url in _get_urls(app)
        assert logged_in.http.get(url).headers["X-Frame-Options"] == "DENY"


def test_json_answers_send_nosniff_and_token_errors_no_store(app, clients):
    http = app.test_client()
    token = http.post(TOKEN, data={"grant_type": "password"})
    assert token.status_code in (400, 401) and token.is_json
    assert token.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in token.headers["Cache-Control"]
    assert_secure_headers(http.post(LOGOUT, data={"id_token_hint": "x"}), LOGOUT)


def test_simulator_keeps_its_stricter_policy(app):
    response = app.test_client().get("/ecps")
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'none'" and policy["form-action"] == "'none'"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_not_found_pages_send_the_headers(app):
    assert_secure_headers(app.test_client().get("/nulle-part"), "/nulle-part")


# --- HSTS: only on https, only when the public base URL is https --------------------------
@pytest.fixture(scope="module")
def https_app(make_app) -> Flask:
    return make_app(base_url="https://idp.example", trusted_proxies=["10.0.0.0/8"])


def test_hsts_on_https_requests(https_app):
    response = https_app.test_client().get("/wallet/", base_url="https://idp.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_from_a_trusted_proxy_only(https_app):
    forwarded = {"X-Forwarded-Proto": "https"}
    trusted = https_app.test_client().get(
        "/wallet/", headers=forwarded, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert "Strict-Transport-Security" in trusted.headers
    stranger = https_app.test_client().get(
        "/wallet/", headers=forwarded, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert "Strict-Transport-Security" not in stranger.headers


def test_no_hsts_on_plain_http(https_app, app):
    assert "Strict-Transport-Security" not in https_app.test_client().get("/wallet/").headers
    # An http base URL (development): its TLS listener sends none, or browsers would force
    # https on the plain port of the same host.
    on_listener = app.test_client().get("/wallet/", base_url="https://localhost:8443")
    assert "Strict-Transport-Security" not in on_listener.headers


def test_hsts_can_be_left_to_nginx(make_app):
    quiet = make_app(base_url="https://idp.example", hsts_max_age=0)
    response = quiet.test_client().get("/wallet/", base_url="https://idp.example")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"  # the rest is still sent


# --- templates: nothing the policy would block -------------------------------------------
TEMPLATES = sorted((Path(PROJECT_ROOT) / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(template: Path):
    source = template.read_text()
    assert not INLINE_SCRIPT.search(source)
    assert not INLINE_STYLE.search(source)
    assert not HANDLER.search(source)


def test_form_post_page_is_never_cached(app, clients):
    browser = Browser(app)
    _, challenge = pkce_pair()
    login = browser.authorize(
        "test-web",
        response_mode="form_post",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    done = browser.pick_identity(login.headers["Location"])
    page = browser.http.get(done.headers["Location"])
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert_secure_headers(page, "form_post")
