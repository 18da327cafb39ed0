"""SSO sessions (4 h absolute, 30 min idle) and RP-initiated logout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from tests.helpers import LOGOUT, login_and_get_tokens, pkce_pair, query_of, token_call


def _age_session(app, sid: str, **delta: int) -> None:
    with app.app_context():
        session = db.session.get(SsoSession, sid)
        session.created_at -= timedelta(seconds=delta.get("created", 0))
        session.last_seen_at -= timedelta(seconds=delta.get("seen", 0))
        db.session.commit()


def _authorize_silently(browser, client_id: str):
    _, challenge = pkce_pair()
    return browser.authorize(
        client_id, code_challenge=challenge, code_challenge_method="S256", prompt="none"
    )


def test_second_request_in_the_session_needs_no_login(app, browser, clients):
    login_and_get_tokens(app, browser, clients.web)
    response = _authorize_silently(browser, "test-web")
    assert response.status_code == 302
    assert "code" in query_of(response.headers["Location"])


@pytest.mark.parametrize(
    "age", [{"seen": 31 * 60}, {"created": 4 * 3600 + 1, "seen": 0}], ids=["idle", "absolute"]
)
def test_expired_session_requires_a_new_login(app, browser, clients, age):
    tokens = login_and_get_tokens(app, browser, clients.web)
    _age_session(app, tokens["session_state"], **age)
    response = _authorize_silently(browser, "test-web")
    assert query_of(response.headers["Location"])["error"] == "login_required"
    refresh = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.get_json()["error"] == "invalid_grant"


def test_logout_with_hint_redirects_and_ends_the_session(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://localhost:3000/",
            "state": "bye",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "http://localhost:3000/?state=bye"
    refresh = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.get_json()["error"] == "invalid_grant"
    assert _authorize_silently(browser, "test-web").headers["Location"].count("login_required")


def test_logout_without_redirect_shows_session_closed_page(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = browser.http.get(LOGOUT, query_string={"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200
    assert "déconnecté" in response.get_data(as_text=True)


def test_logout_without_hint_asks_for_confirmation(app, browser, clients):
    login_and_get_tokens(app, browser, clients.web)
    page = browser.http.get(LOGOUT)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="confirm"' in html
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = browser.http.post(LOGOUT, data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 200
    assert _authorize_silently(browser, "test-web").headers["Location"].count("login_required")
