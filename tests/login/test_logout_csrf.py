"""Logout cannot be forced on a browser by another site: only a hint of the browser's own
session ends it at once; anything else asks the professional (RP-Initiated Logout 1.0 §2)."""

from __future__ import annotations

import re

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from tests.helpers import LOGOUT, Browser, login_and_get_tokens, token_call

BYE = "http://localhost:3000/"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _session_alive(app, tokens) -> bool:
    with app.app_context():
        return db.session.get(SsoSession, tokens["session_state"]).ended_at is None


def _refresh_works(app, client, tokens) -> bool:
    response = token_call(
        app, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    return response.status_code == 200


def test_another_sessions_hint_does_not_end_the_browsers_session(app, browser, clients):
    attacker = login_and_get_tokens(app, Browser(app), clients.web)
    victim = login_and_get_tokens(app, browser, clients.web)

    page = browser.http.get(
        LOGOUT,
        query_string={"id_token_hint": attacker["id_token"], "post_logout_redirect_uri": BYE},
    )

    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert _session_alive(app, victim) and _refresh_works(app, clients.web, victim)
    assert _session_alive(app, attacker)


def test_confirming_after_a_foreign_hint_ends_both_and_redirects(app, browser, clients):
    other = login_and_get_tokens(app, Browser(app), clients.web)
    mine = login_and_get_tokens(app, browser, clients.web)
    params = {"id_token_hint": other["id_token"], "post_logout_redirect_uri": BYE, "state": "s"}
    html = browser.http.get(LOGOUT, query_string=params).get_data(as_text=True)
    assert 'name="id_token_hint"' in html  # the hint still names the client after the form

    done = browser.http.post(LOGOUT, data={**params, "csrf_token": _csrf(html), "confirm": "yes"})

    assert done.status_code == 302 and done.headers["Location"] == BYE + "?state=s"
    assert not _session_alive(app, mine) and not _refresh_works(app, clients.web, mine)
    assert not _session_alive(app, other)


def test_get_without_hint_never_ends_the_session(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    # Even with a form's fields in the query string: only a POST confirms.
    page = browser.http.get(LOGOUT, query_string={"confirm": "yes", "csrf_token": "x"})
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert _session_alive(app, tokens)


def test_cross_site_post_without_the_forms_token_asks_again(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    browser.http.get(LOGOUT)  # the browser has a login cookie, the attacker not its token
    forged = browser.http.post(LOGOUT, data={"confirm": "yes", "csrf_token": "forged"})
    assert forged.status_code == 200 and 'name="confirm"' in forged.get_data(as_text=True)
    assert _session_alive(app, tokens)


def test_hint_without_browser_session_ends_the_hinted_session(app, browser, clients):
    """A cross-site POST from the RP carries no SameSite=Lax cookie: its valid hint suffices,
    since the browser has no session of its own at stake."""
    tokens = login_and_get_tokens(app, Browser(app), clients.web)
    response = browser.http.post(
        LOGOUT, data={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE}
    )
    assert response.status_code == 302 and response.headers["Location"] == BYE
    assert not _session_alive(app, tokens) and not _refresh_works(app, clients.web, tokens)


def test_own_hint_still_ends_at_once(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    other = login_and_get_tokens(app, Browser(app), clients.web)
    response = browser.http.get(
        LOGOUT, query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE}
    )
    assert response.status_code == 302
    assert not _session_alive(app, tokens)
    assert _session_alive(app, other)  # nobody else's session goes with it
