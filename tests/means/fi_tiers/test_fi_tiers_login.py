"""Logging in through an establishment's provider (FI Tiers), node-oidc-provider playing the
establishment: kc_idp_hint, the ID token's checks, pairing by e-CPS, later logins."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import select

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.means.fi_tiers.models import FiTiersLogin, FiTiersPairing
from psc_idp.timeutil import now
from tests.helpers import USERINFO, Browser, decode, exchange_code, pkce_pair, query_of, token_call
from tests.means.ecps.helpers import activate_by_contact
from tests.means.fi_tiers.conftest import ALIAS, PROFESSIONAL, configure

TWO_FACTORS = "pwd,mfa"


class BrokeredLogin:
    """The professional's browser: the SP's request with kc_idp_hint, the establishment's login,
    back on psc-idp."""

    def __init__(self, app, client, upstream, **params):
        self.app, self.client, self.upstream = app, client, upstream
        self.browser = Browser(app)
        self.verifier, challenge = pkce_pair()
        self.start = self.browser.authorize(
            client.client_id,
            code_challenge=challenge,
            code_challenge_method="S256",
            **{"kc_idp_hint": ALIAS, **params},
        )
        self.login_page = self.start.headers["Location"]

    def to_provider(self) -> str:
        means = self.browser.http.get(self.login_page)
        assert means.status_code == 302, means.get_data(as_text=True)
        sent = self.browser.http.get(means.headers["Location"])
        assert sent.status_code == 302, sent.get_data(as_text=True)
        return sent.headers["Location"]

    def back_from_provider(self, account: str, amr: str = TWO_FACTORS, tid: str = "chu"):
        self.callback_url = self.upstream.log_in(self.to_provider(), account, amr, tid)
        return self.replay()

    def replay(self):
        parts = urlsplit(self.callback_url)
        return self.browser.http.get(f"{parts.path}?{parts.query}")

    def tokens(self, response) -> dict:
        assert response.status_code == 302, response.get_data(as_text=True)
        final = self.browser.http.get(response.headers["Location"])
        code = query_of(final.headers["Location"])["code"]
        answer = exchange_code(self.app, self.client, code, self.verifier)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def pair(self, phone, national_id: str = PROFESSIONAL, pin: str = "1234"):
        page = self.browser.http.get(self.login_page + "/fi_tiers").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        means = self.login_page + "/fi_tiers"
        sent = self.browser.http.post(
            means, data={"csrf_token": csrf, "step": "identify", "national_id": national_id}
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)
        waiting = self.browser.http.get(sent.headers["Location"]).get_data(as_text=True)
        request = phone.pending()[0]
        assert request["binding_message"] in waiting
        assert phone.decide(request, "approve", pin=pin).status_code == 200
        return self.browser.http.post(means, data={"csrf_token": csrf, "step": "complete"})


def test_first_login_pairs_by_ecps_then_goes_straight_through(app, clients, upstream, configured):
    phone = activate_by_contact(app, PROFESSIONAL)
    first = BrokeredLogin(app, clients.web, upstream)
    back = first.back_from_provider("alice")
    assert back.status_code == 302, back.get_data(as_text=True)
    assert back.headers["Location"].endswith("/fi_tiers")  # not paired yet: the pairing page
    page = first.browser.http.get(back.headers["Location"]).get_data(as_text=True)
    assert "Associer votre compte" in page and "alice" in page
    tokens = first.tokens(first.pair(phone))
    claims = decode(tokens["id_token"])
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"], claims["amr"]) == (
        PROFESSIONAL,
        "FI_TIERS",
        "eidas2",
        ["pwd", "mfa"],
    )
    assert decode(tokens["access_token"])["amr"] == ["pwd", "mfa"]
    info = app.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200, info.get_json()
    names = list(info.get_json())
    assert (info.get_json()["authMode"], info.get_json()["amr"]) == ("FI_TIERS", ["pwd", "mfa"])
    assert names.index("amr") == names.index("authMode") + 1  # beside authMode, as in tokens
    discovery = first.browser.http.get(
        "/auth/realms/esante-wallet/.well-known/openid-configuration"
    )
    assert "amr" in discovery.get_json()["claims_supported"]
    with app.app_context():
        pairing = db.session.get(FiTiersPairing, (ALIAS, "alice"))
        assert (pairing.national_id, pairing.paired_by) == (PROFESSIONAL, "MOBILE")
        # The establishment's ID token went, sealed, from the brokered login to the session
        # the pairing opened (for the logout there).
        assert db.session.get(SsoSession, claims["sid"]).upstream.startswith("s1.")
        assert (
            db.session.scalars(
                select(FiTiersLogin.id).where(FiTiersLogin.id_token_sealed.is_not(None))
            ).all()
            == []
        )

    waiting = {request["id"] for request in phone.pending()}  # other tests' pushes, if any
    second = BrokeredLogin(app, clients.web, upstream)
    back = second.back_from_provider("alice", amr="sc,pin,mfa")
    tokens = second.tokens(back)  # straight back to the service
    claims = decode(tokens["id_token"])
    assert (claims["SubjectNameID"], claims["acr"], claims["amr"]) == (
        PROFESSIONAL,
        "eidas3",
        ["sc", "pin", "mfa"],
    )
    refreshed = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).get_json()
    assert decode(refreshed["id_token"])["amr"] == ["sc", "pin", "mfa"]  # kept by the family
    assert {request["id"] for request in phone.pending()} == waiting  # no push this time


def test_one_factor_is_refused(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream)
    back = login.back_from_provider("bob", amr="pwd")
    assert back.status_code == 400
    assert "n'accepte pas" in html.unescape(back.get_data(as_text=True))


def test_other_tenant_is_refused(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream)
    back = login.back_from_provider("carol", tid="other")
    assert back.status_code == 400
    assert "organisation qui n'est pas autorisée" in html.unescape(back.get_data(as_text=True))


def test_replayed_state_is_refused(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream)
    assert login.back_from_provider("dave").status_code == 302
    again = login.replay()
    assert again.status_code == 400
    assert "déjà été utilisée" in html.unescape(again.get_data(as_text=True))


def test_expired_or_removed_pairing_asks_again(app, clients, upstream, configured):
    with app.app_context():
        db.session.add(
            FiTiersPairing(
                alias=ALIAS,
                local_id="erin",
                national_id=PROFESSIONAL,
                paired_by="MOBILE",
                expires_at=now() - timedelta(seconds=1),
            )
        )
        db.session.commit()
    expired = BrokeredLogin(app, clients.web, upstream).back_from_provider("erin")
    assert expired.headers["Location"].endswith("/fi_tiers")  # pairing asked again

    with app.app_context():
        pairing = db.session.get(FiTiersPairing, (ALIAS, "erin"))
        pairing.expires_at = now() + timedelta(hours=1)
        db.session.commit()
    paired = BrokeredLogin(app, clients.web, upstream).back_from_provider("erin")
    assert "/fi_tiers" not in paired.headers["Location"]  # logged in

    result = app.test_cli_runner().invoke(args=["pairings", "remove", ALIAS, "erin"])
    assert result.exit_code == 0, result.output
    removed = BrokeredLogin(app, clients.web, upstream).back_from_provider("erin")
    assert removed.headers["Location"].endswith("/fi_tiers")


def test_unknown_hint_shows_la_mire(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream, kc_idp_hint="FI_UNKNOWN")
    page = login.browser.http.get(login.login_page)
    assert page.status_code == 200  # as Keycloak: the redirector passes, the login page shows
    assert "Compte de mon établissement" in html.unescape(page.get_data(as_text=True))


def test_a_refusal_at_the_establishment_ends_on_a_french_page(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream)
    state = query_of(login.to_provider())["state"]
    refused = login.browser.http.get(f"/wallet/fi-tiers/callback?state={state}&error=access_denied")
    assert refused.status_code == 400
    assert "n'a pas authentifié" in html.unescape(refused.get_data(as_text=True))


def test_a_callback_without_a_known_state_ends_on_a_french_page(app, clients, upstream, configured):
    browser = Browser(app)
    for query in ("", "?state=forged&code=x", "?state=" + "x" * 5000):
        page = browser.http.get(f"/wallet/fi-tiers/callback{query}")
        assert page.status_code == 400, query
        assert "Connexion impossible" in page.get_data(as_text=True)
    nul = browser.http.get("/wallet/fi-tiers/callback?state=%00")
    assert nul.status_code == 400 and '<html lang="fr">' in nul.get_data(as_text=True)


def test_the_provider_sees_pkce_state_and_nonce(app, clients, upstream, configured):
    query = query_of(BrokeredLogin(app, clients.web, upstream).to_provider())
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
    assert query["redirect_uri"] == "http://localhost:8080/wallet/fi-tiers/callback"


def test_back_on_la_mire_after_the_provider_the_other_means_show(
    app, clients, upstream, configured
):
    login = BrokeredLogin(app, clients.web, upstream)
    login.back_from_provider("frank", amr="pwd")  # refused: one factor
    page = login.browser.http.get(login.login_page)
    assert page.status_code == 200  # la mire, not the provider once more
    assert "Application e-CPS" in page.get_data(as_text=True)


def test_an_unreachable_provider_ends_on_a_french_page(app, clients, upstream, configured):
    from psc_idp.realm.loader import import_realm
    from tests.live_server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    with app.app_context():
        import_realm({"identity_providers": [{**configured, "issuer": closed}]})
        db.session.commit()
    login = BrokeredLogin(app, clients.web, upstream)
    means = login.browser.http.get(login.browser.http.get(login.login_page).headers["Location"])
    assert means.status_code == 400
    assert "ne répond pas" in html.unescape(means.get_data(as_text=True))


def test_a_response_naming_another_issuer_is_refused(app, clients, upstream, configured):
    login = BrokeredLogin(app, clients.web, upstream)
    login.callback_url = upstream.log_in(login.to_provider(), "gina", TWO_FACTORS)
    assert f"iss={quote(upstream.issuer, safe='')}" in login.callback_url  # RFC 9207, sent
    mixed_up = login.callback_url.replace(
        quote(upstream.issuer, safe=""), quote("https://evil.example", safe="")
    )
    parts = urlsplit(mixed_up)
    refused = login.browser.http.get(f"{parts.path}?{parts.query}")
    assert refused.status_code == 400
    assert "authorization response iss" in refused.get_data(as_text=True)


def test_auth_mode_is_the_providers_in_tokens_and_userinfo(app, clients, upstream, configured):
    configure(app, {**configured, "auth_mode": "ENTRA_contoso"}, paired_local_id="olga")
    login = BrokeredLogin(app, clients.web, upstream)
    tokens = login.tokens(login.back_from_provider("olga", amr="sc,pin,hwk"))
    claims = decode(tokens["id_token"])
    assert (claims["authMode"], claims["acr"], claims["amr"]) == (
        "ENTRA_contoso",
        "eidas3",
        ["sc", "pin", "hwk"],
    )
    info = (
        app.test_client()
        .get(USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
        .get_json()
    )
    assert (info["authMode"], info["amr"]) == ("ENTRA_contoso", ["sc", "pin", "hwk"])
    assert "acr" not in info  # as PSC: the level is in the tokens, UserInfo says authMode
