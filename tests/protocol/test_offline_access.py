"""``offline_access``: an offline refresh token (Keycloak's ``typ: Offline``), not tied to the SSO
session: it outlives the browser session's logout and expiry, and revocation ends it."""

from __future__ import annotations

from datetime import timedelta

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.protocol.models import Grant
from psc_idp.protocol.tokens import find_refresh_token
from psc_idp.timeutil import now
from tests.helpers import LOGOUT, REVOKE, basic, decode, login_and_get_tokens, token_call


def refresh(app, clients, refresh_token: str):
    return token_call(app, clients.web, grant_type="refresh_token", refresh_token=refresh_token)


def refresh_ok(app, clients, refresh_token: str) -> dict:
    response = refresh(app, clients, refresh_token)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def offline_login(app, browser, clients) -> dict:
    return login_and_get_tokens(app, browser, clients.web, scope="openid offline_access")


def test_offline_token_is_typed_offline(app, browser, clients):
    tokens = offline_login(app, browser, clients)
    claims = decode(tokens["refresh_token"])
    assert claims["typ"] == "Offline" and "exp" not in claims
    assert tokens["refresh_expires_in"] == 0
    assert "offline_access" in tokens["scope"].split()
    with app.app_context():
        row = find_refresh_token(tokens["refresh_token"])
        lifetime = row.expires_at - now()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    renewed = refresh_ok(app, clients, tokens["refresh_token"])
    assert decode(renewed["refresh_token"])["typ"] == "Offline"


def test_ordinary_token_stays_a_refresh_token(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    assert decode(tokens["refresh_token"])["typ"] == "Refresh"
    assert tokens["refresh_expires_in"] == 1800


def test_offline_token_survives_logout_of_the_browser_session(app, browser, clients):
    online = login_and_get_tokens(app, browser, clients.web)
    offline = offline_login(app, browser, clients)
    assert online["session_state"] == offline["session_state"]  # the same SSO session
    response = browser.http.get(LOGOUT, query_string={"id_token_hint": offline["id_token"]})
    assert response.status_code == 200
    assert refresh(app, clients, online["refresh_token"]).status_code == 400
    renewed = refresh_ok(app, clients, offline["refresh_token"])
    assert decode(renewed["refresh_token"])["typ"] == "Offline"


def test_offline_token_outlives_an_expired_sso_session(app, browser, clients):
    online = login_and_get_tokens(app, browser, clients.web)
    tokens = offline_login(app, browser, clients)
    with app.app_context():
        session = db.session.get(SsoSession, tokens["session_state"])
        session.created_at -= timedelta(hours=5)  # past the 4 h absolute lifetime
        db.session.commit()
    assert refresh(app, clients, online["refresh_token"]).get_json()["error_description"] == (
        "Session not active"
    )
    refresh_ok(app, clients, tokens["refresh_token"])


def test_revocation_ends_an_offline_token(app, browser, clients):
    tokens = offline_login(app, browser, clients)
    auth = basic(clients.web.client_id, clients.web.secret)
    revoked = app.test_client().post(REVOKE, data={"token": tokens["refresh_token"]}, headers=auth)
    assert revoked.status_code == 200
    response = refresh(app, clients, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_offline_maximum_lifetime_when_set(app, browser, clients, monkeypatch):
    tokens = offline_login(app, browser, clients)
    monkeypatch.setattr(app.extensions["psc_settings"], "offline_session_max_lifetime", 3600)
    with app.app_context():
        grant_id = find_refresh_token(tokens["refresh_token"]).grant_id
        db.session.get(Grant, grant_id).created_at = now() - timedelta(hours=2)
        db.session.commit()
    response = refresh(app, clients, tokens["refresh_token"])
    assert response.get_json() == {
        "error": "invalid_grant",
        "error_description": "Offline session not active",
    }


def test_offline_access_needs_to_be_allowed(app, browser):
    from psc_idp.protocol.clients import upsert_client

    with app.app_context():
        upsert_client(
            {
                "client_id": "offline-narrow",
                "secret": "s" * 32,
                "redirect_uris": ["http://localhost:3000/callback"],
                "scopes": ["openid", "scope_all"],
            }
        )
        db.session.commit()
    response = browser.authorize(
        "offline-narrow",
        scope="openid offline_access",
        code_challenge="c" * 43,
        code_challenge_method="S256",
    )
    assert "error_description=Invalid+scopes%3A+offline_access" in response.headers["Location"]
