"""Logout at psc-idp ends the establishment's session too (its RP-initiated logout): the
browser goes to node-oidc-provider's end_session with the upstream ID token as id_token_hint,
comes back to psc-idp, which finishes its own logout (the service's post_logout_redirect_uri
and state)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from sqlalchemy import delete, select

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.means.fi_tiers.models import FiIdentityProvider
from tests.helpers import OIDC, decode, query_of
from tests.means.fi_tiers.conftest import CALLBACK, configure, provider_entry
from tests.means.fi_tiers.establishment import POST_LOGOUT, Establishment, establishment
from tests.means.fi_tiers.test_fi_tiers_login import TWO_FACTORS, BrokeredLogin

SP_AFTER_LOGOUT = "http://localhost:3000/"


def _configure(app, up: Establishment, local_id: str) -> None:
    configure(app, provider_entry(up), paired_local_id=local_id)


@pytest.fixture(scope="module")
def without_logout(tmp_path_factory) -> Iterator[Establishment]:
    with establishment(tmp_path_factory.mktemp("no-logout"), CALLBACK, rp_logout=False) as up:
        yield up


def _logged_in(app, client, up: Establishment, local_id: str, at_establishment):
    """A login through the establishment, the professional's browser there kept."""
    login = BrokeredLogin(app, client, up)
    login.callback_url = up.log_in(
        login.to_provider(), local_id, TWO_FACTORS, browser=at_establishment
    )
    return login, login.tokens(login.replay())


def _asks_to_log_in(app, client, up: Establishment, at_establishment) -> bool:
    """Whether the establishment asks this browser to log in (no session there)."""
    sent = BrokeredLogin(app, client, up).to_provider()
    first = at_establishment.get(sent, allow_redirects=False, timeout=10)
    location = urljoin(sent, first.headers["Location"])
    while location.startswith(up.issuer) and "/interaction/" not in location:
        location = urljoin(
            location,
            at_establishment.get(location, allow_redirects=False, timeout=10).headers["Location"],
        )
    return "/interaction/" in location


def _logout(login, tokens, state="sp-state"):
    query = urlencode(
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": SP_AFTER_LOGOUT,
            "state": state,
        }
    )
    return login.browser.http.get(f"{OIDC}/logout?{query}")


def _confirm_at_establishment(at_establishment, url: str) -> str:
    """node-oidc-provider's logout page: its form posted with « yes »; where it sends back."""
    page = at_establishment.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    action = re.search(r'<form id="op.logoutForm" method="post" action="([^"]+)"', page.text)
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    done = at_establishment.post(
        urljoin(url, action.group(1)),
        data={"xsrf": xsrf.group(1), "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code in (302, 303), done.text[:500]
    return done.headers["Location"]


def test_logout_ends_the_establishment_session_then_returns_to_the_service(
    app, clients, upstream, cleanup
):
    _configure(app, upstream, "lena")
    at_establishment = requests.Session()
    login, tokens = _logged_in(app, clients.web, upstream, "lena", at_establishment)
    sid = decode(tokens["id_token"])["sid"]
    with app.app_context():
        kept = db.session.get(SsoSession, sid).upstream
    assert kept.startswith("s1.") and "eyJ" not in kept  # sealed, not the token in clear
    assert not _asks_to_log_in(app, clients.web, upstream, at_establishment)  # SSO there

    left = _logout(login, tokens)
    assert left.status_code == 302
    to_establishment = left.headers["Location"]
    assert to_establishment.startswith(f"{upstream.issuer}/session/end")
    sent = query_of(to_establishment)
    assert sent["post_logout_redirect_uri"] == POST_LOGOUT
    upstream_token = decode(sent["id_token_hint"])
    assert (upstream_token["iss"], upstream_token["sub"]) == (upstream.issuer, "lena")
    with app.app_context():
        session = db.session.get(SsoSession, sid)
        assert session.ended_at is not None  # ours ended before the browser left
        assert session.upstream is None  # the upstream token is not kept beyond the logout

    back = _confirm_at_establishment(at_establishment, to_establishment)
    assert back.startswith(POST_LOGOUT) and query_of(back)["state"] == sent["state"]
    parts = urlsplit(back)
    finished = login.browser.http.get(f"{parts.path}?{parts.query}")
    assert finished.status_code == 302
    assert finished.headers["Location"] == f"{SP_AFTER_LOGOUT}?state=sp-state"
    assert _asks_to_log_in(app, clients.web, upstream, at_establishment)  # ended there too

    again = login.browser.http.get(f"{parts.path}?{parts.query}")  # replayed: nothing more
    assert again.status_code == 200 and "déconnecté" in html.unescape(again.get_data(as_text=True))


def test_a_forged_return_shows_the_logged_out_page(app):
    for query in ("", "?state=forged", "?state=" + "x" * 5000):
        page = app.test_client().get(f"{OIDC}/logout/upstream{query}")
        assert page.status_code == 200, query
        assert "déconnecté" in html.unescape(page.get_data(as_text=True))


def test_without_end_session_endpoint_the_logout_is_local(app, clients, without_logout, cleanup):
    _configure(app, without_logout, "marc")
    login, tokens = _logged_in(app, clients.web, without_logout, "marc", requests.Session())
    with app.app_context():
        session = db.session.get(SsoSession, decode(tokens["id_token"])["sid"])
        assert session.upstream is None  # nothing to keep: no RP-initiated logout there
    left = _logout(login, tokens)
    assert left.headers["Location"] == f"{SP_AFTER_LOGOUT}?state=sp-state"


def test_a_provider_gone_from_the_realm_leaves_the_local_logout(app, clients, upstream, cleanup):
    _configure(app, upstream, "nora")
    login, tokens = _logged_in(app, clients.web, upstream, "nora", requests.Session())
    with app.app_context():
        db.session.execute(delete(FiIdentityProvider))
        db.session.commit()
    left = _logout(login, tokens)
    assert left.headers["Location"] == f"{SP_AFTER_LOGOUT}?state=sp-state"
    with app.app_context():
        ended = db.session.scalars(
            select(SsoSession.ended_at).where(SsoSession.id == decode(tokens["id_token"])["sid"])
        ).one()
    assert ended is not None
