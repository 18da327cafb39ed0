"""The login-binding cookie (PSC_LOGIN) is always a value this server issued: one planted in
the browser beforehand (cookie fixation) is replaced, so whoever planted it cannot follow the
login it would otherwise be bound to."""

from __future__ import annotations

from http.cookies import SimpleCookie

from tests.helpers import AUTHORIZE, REDIRECT, Browser

PLANTED = "attacker-chosen-login-binding-0123456789"


def _set_cookie(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return jar


def _start(browser: Browser):
    response = browser.authorize("test-web")
    assert response.status_code == 302 and "/wallet/login/" in response.headers["Location"]
    return response


def test_planted_cookie_is_replaced_and_does_not_open_the_login(app, browser, clients):
    browser.http.set_cookie("PSC_LOGIN", PLANTED)
    response = _start(browser)
    issued = _set_cookie(response)["PSC_LOGIN"].value
    assert issued != PLANTED

    attacker = Browser(app)
    attacker.http.set_cookie("PSC_LOGIN", PLANTED)
    page = attacker.http.get(response.headers["Location"])
    assert page.status_code == 400 and "autre navigateur" in page.get_data(as_text=True)
    assert browser.http.get(response.headers["Location"]).status_code == 200


def test_forged_mac_is_replaced(app, browser, clients):
    issued = _set_cookie(_start(Browser(app)))["PSC_LOGIN"].value
    token, _, mac = issued.partition(".")
    forged = f"{token}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}"
    browser.http.set_cookie("PSC_LOGIN", forged)
    assert _set_cookie(_start(browser))["PSC_LOGIN"].value not in (forged, issued)


def test_issued_cookie_is_kept_for_the_next_login(app, browser, clients):
    first = _start(browser)
    issued = _set_cookie(first)["PSC_LOGIN"].value
    second = _start(browser)
    assert _set_cookie(second)["PSC_LOGIN"].value == issued
    # Both pending logins (two tabs) still belong to this browser.
    assert browser.http.get(first.headers["Location"]).status_code == 200
    assert browser.http.get(second.headers["Location"]).status_code == 200


def _login_cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("PSC_LOGIN="))


def _authorize(http, **kwargs):
    query = {
        "response_type": "code",
        "client_id": "test-web",
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "s",
    }
    return http.get(AUTHORIZE, query_string=query, **kwargs)


def test_cookies_are_secure_over_https(app, clients):
    header = _login_cookie_header(_authorize(app.test_client(), base_url="https://localhost"))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in _login_cookie_header(_authorize(app.test_client()))


def test_forwarded_https_counts_only_from_a_trusted_proxy(app, make_app, clients):
    forwarded = {"X-Forwarded-Proto": "https"}
    untrusted = _authorize(app.test_client(), headers=forwarded)
    assert "Secure" not in _login_cookie_header(untrusted)
    behind_proxy = make_app(trusted_proxies=["127.0.0.1/32"])
    trusted = _authorize(behind_proxy.test_client(), headers=forwarded)
    assert "Secure" in _login_cookie_header(trusted)
