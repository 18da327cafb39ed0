"""The test identity picker exists only in development mode."""

from __future__ import annotations

from tests.helpers import AUTHORIZE, TestClients, pkce_pair


def test_picker_is_unreachable_when_dev_mode_is_off(make_app):
    app = make_app(dev_mode=False)
    clients = TestClients.ensure(app)
    http = app.test_client()
    _, challenge = pkce_pair()
    start = http.get(
        AUTHORIZE,
        query_string={
            "response_type": "code",
            "client_id": clients.web.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    login_page = start.headers["Location"]
    mire = http.get(login_page).get_data(as_text=True)
    assert "Identité de test" not in mire and "Mode développement" not in mire
    assert http.get(f"{login_page}/dev").status_code == 404
    assert http.post(f"{login_page}/dev", data={"national_id": "899700218896"}).status_code == 404


def test_picker_search_with_control_characters_is_harmless(app, clients):
    from tests.helpers import Browser

    browser = Browser(app)
    _, challenge = pkce_pair()
    start = browser.authorize(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    page = browser.http.get(f"{start.headers['Location']}/dev?q=DOC%01%7F")
    assert page.status_code == 200
    assert "DOC0036624" in page.get_data(as_text=True)
