"""FI Tiers in a real browser: the service sends kc_idp_hint, Chromium goes to the
establishment's provider (node-oidc-provider), logs in there with two factors, comes back,
pairs the local account by approving on the e-CPS (``psc-idp ecps approve``, as a CI job),
and reaches the service; the second time it goes straight through. The service's logout then
ends the establishment's session too (its logout page, then back to the service)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.test_login_in_chromium import _authorize_url, _capture_callback
from tests.means.fi_tiers.conftest import ALIAS, provider_entry
from tests.means.fi_tiers.establishment import establishment
from tests.relying_party import callback_query, exchange_code, id_token_claims, run_cli

SERVICE = re.compile(r"^http://localhost:3000/")  # the service's callback (_capture_callback)
NURSE = "899700100235"  # no e-CPS scenario in the demo realm
PIN = "2468"


@pytest.fixture(scope="module")
def upstream(live_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("establishment")
    callback = f"{live_server.base_url}/wallet/fi-tiers/callback"
    after_logout = f"{live_server.issuer}/protocol/openid-connect/logout/upstream"
    with establishment(folder, callback, post_logout_uri=after_logout) as running:
        realm = folder / "realm.yaml"
        entry = provider_entry(running, allowed_tenants=["chu"])
        realm.write_text(yaml.safe_dump({"identity_providers": [entry]}, allow_unicode=True))
        run_cli(live_server, "realm", "import", str(realm))
        yield running


def _log_in_at_the_establishment(page, upstream, account: str) -> None:
    """The establishment's own login form (two factors, tenant ``chu``)."""
    assert page.url.startswith(f"{upstream.issuer}/interaction/"), page.url
    page.get_by_label("Compte").fill(account)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.e2e
def test_pair_then_log_in_straight_through(live_server, upstream, page, screenshot):
    run_cli(live_server, "ecps", "activate", NURSE, "--pin", PIN)
    seen = _capture_callback(page)
    url, verifier = _authorize_url(live_server, kc_idp_hint=ALIAS)
    page.goto(url)
    _log_in_at_the_establishment(page, upstream, "nurse-local")
    expect(page.get_by_role("heading", name="Associer votre compte")).to_be_visible()
    screenshot("fi-tiers-pairing")
    page.get_by_label("Identifiant national").fill(NURSE)
    with ThreadPoolExecutor(max_workers=1) as pool:
        approval = pool.submit(
            run_cli, live_server, "ecps", "approve", NURSE, "--pin", PIN, "--wait", "20"
        )
        page.get_by_role("button", name="Envoyer la demande sur mon e-CPS").click()
        assert approval.result(timeout=30)["status"] == "approved"
    page.get_by_role("button", name="J'ai validé sur mon e-CPS").click()
    expect(page).to_have_url(SERVICE)
    claims = id_token_claims(exchange_code(live_server, callback_query(seen[-1])["code"], verifier))
    assert (claims["SubjectNameID"], claims["authMode"], claims["amr"]) == (
        NURSE,
        "FI_TIERS",
        ["pwd", "mfa"],
    )
    listed = run_cli(live_server, "pairings", "list")
    assert any(p["local_id"] == "nurse-local" and p["national_id"] == NURSE for p in listed)

    # A new browser (no SSO session): the establishment's login is enough this time.
    page.context.clear_cookies()
    url, verifier = _authorize_url(live_server, kc_idp_hint=ALIAS)
    page.goto(url)
    _log_in_at_the_establishment(page, upstream, "nurse-local")
    expect(page).to_have_url(SERVICE)
    tokens = exchange_code(live_server, callback_query(seen[-1])["code"], verifier)
    assert id_token_claims(tokens)["SubjectNameID"] == NURSE

    # The service logs out: the establishment's logout page, then back to the service.
    logout = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": "http://localhost:3000/",
        "state": "fin",
    }
    page.goto(f"{live_server.issuer}/protocol/openid-connect/logout?{urlencode(logout)}")
    assert page.url.startswith(f"{upstream.issuer}/session/end"), page.url
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url("http://localhost:3000/?state=fin")
    # Logged out there too: the establishment asks for its login again.
    url, _ = _authorize_url(live_server, kc_idp_hint=ALIAS)
    page.goto(url)
    expect(page).to_have_url(re.compile(rf"^{re.escape(upstream.issuer)}/interaction/"))
