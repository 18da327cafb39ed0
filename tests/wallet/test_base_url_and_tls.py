"""The base URL follows the port served; without a certificate origin nothing TLS is offered."""

from __future__ import annotations

from psc_idp.cli.serve import summary
from psc_idp.config import Settings
from tests.helpers import Browser, TestClients, pkce_pair

DISCOVERY = "/auth/realms/esante-wallet/.well-known/openid-configuration"


def test_base_url_is_derived_from_the_port_when_unset(monkeypatch):
    monkeypatch.delenv("PSC_BASE_URL", raising=False)
    monkeypatch.setenv("PSC_PORT", "38080")
    settings = Settings.from_env()
    assert settings.base_url == "http://localhost:38080"
    assert settings.issuer == "http://localhost:38080/auth/realms/esante-wallet"


def test_an_explicit_base_url_is_kept_whatever_the_port(monkeypatch):
    monkeypatch.setenv("PSC_BASE_URL", "https://idp.example")
    monkeypatch.setenv("PSC_PORT", "38080")
    settings = Settings.from_env()
    settings.listen_on(9000)
    assert settings.base_url == "https://idp.example" and settings.port == 9000


def test_serve_port_and_discovery_agree(make_app, monkeypatch):
    monkeypatch.delenv("PSC_BASE_URL", raising=False)
    app = make_app(port=38080)
    with app.app_context():
        settings = app.extensions["psc_settings"]
        settings.listen_on(38081)  # what `psc-idp serve --port 38081` does before printing
        printed = "\n".join(summary())
    body = app.test_client().get(DISCOVERY).get_json()
    assert body["issuer"] == "http://localhost:38081/auth/realms/esante-wallet"
    assert f"issuer      {body['issuer']}" in printed
    assert "localhost:8080" not in printed
    assert "accueil     http://localhost:38081/ (mode développement)" in printed


def _discovery_without_tls(make_app):
    app = make_app(tls_port=0, tls_base_url="", base_url="http://localhost:8080")
    return app, app.test_client().get(DISCOVERY).get_json()


def test_discovery_without_tls_origin_advertises_no_mtls(make_app):
    _, body = _discovery_without_tls(make_app)
    assert "mtls_endpoint_aliases" not in body
    assert "tls_client_certificate_bound_access_tokens" not in body
    for key in (
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ):
        assert "tls_client_auth" not in body[key], key
        assert "client_secret_basic" in body[key]
    assert "https://localhost:0" not in str(body)


def test_discovery_with_a_tls_base_url_keeps_mtls_even_without_own_listener(make_app):
    app = make_app(tls_port=0, tls_base_url="https://mtls.example")
    body = app.test_client().get(DISCOVERY).get_json()
    assert body["mtls_endpoint_aliases"]["token_endpoint"].startswith("https://mtls.example/")
    assert "tls_client_auth" in body["token_endpoint_auth_methods_supported"]


def test_la_mire_offers_no_card_without_tls_origin(make_app):
    app, _ = _discovery_without_tls(make_app)
    clients = TestClients.ensure(app)
    browser = Browser(app)
    _, challenge = pkce_pair()
    start = browser.authorize(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    mire = browser.http.get(start.headers["Location"])
    assert mire.status_code == 200
    assert "Carte CPS" not in mire.get_data(as_text=True)
    assert browser.http.get(f"{start.headers['Location']}/card").status_code == 404


def test_la_mire_offers_the_card_with_the_tls_listener(make_app):
    app = make_app(tls_port=8443)
    clients = TestClients.ensure(app)
    browser = Browser(app)
    _, challenge = pkce_pair()
    start = browser.authorize(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    assert "Carte CPS" in browser.http.get(start.headers["Location"]).get_data(as_text=True)


def test_ciba_card_page_links_nowhere_without_tls_origin(make_app):
    app, _ = _discovery_without_tls(make_app)
    page = app.test_client().get("/wallet/ciba")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "https://localhost:0" not in html and "Ouvrir avec ma carte CPS" not in html


def test_ciba_card_page_links_to_the_tls_origin(make_app):
    app = make_app(tls_port=8443)
    html = app.test_client().get("/wallet/ciba").get_data(as_text=True)
    assert 'href="https://localhost:8443/wallet/ciba"' in html
