"""``/`` in development mode: everything an integrator needs on one page; nothing in production."""

from __future__ import annotations

import re


def test_landing_page_in_development_mode(app, clients):
    page = app.test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    issuer = "http://localhost:8080/auth/realms/esante-wallet"
    assert f"{issuer}/.well-known/openid-configuration" in html
    assert f"{issuer}/.well-known/wallet-openid-configuration" in html
    # The demo clients, their methods and redirect URIs, and where the secret is kept.
    assert "demo-web" in html and "demo-spa" in html
    assert "http://localhost:3000/callback" in html
    assert "demo-client-secrets.json" in html and "make run" in html
    assert "client public, PKCE obligatoire" in html
    # Test identities, tools, docs.
    assert "899700218896" in html and "docs/test-identities.md" in html
    assert "son e-CPS approuve seule après 2 s" in html  # the demo realm's scenario
    tools = ('href="/dev/debugger/"', 'href="/dev/requests"', 'href="/admin/"')
    for link in ('href="/ecps', 'href="/dev/outbox"', *tools):
        assert link in html
    assert '<html lang="fr">' in html


def test_landing_page_never_shows_a_secret(app):
    from psc_idp.realm.loader import demo_secrets

    with app.app_context():
        secrets = demo_secrets(app.extensions["psc_settings"])
    html = app.test_client().get("/").get_data(as_text=True)
    assert secrets and not any(secret in html for secret in secrets.values())


def test_landing_page_has_no_inline_script_or_style(app):
    html = app.test_client().get("/").get_data(as_text=True)
    assert "<script" not in html and not re.search(r"\sstyle=", html)


def test_no_landing_page_in_production(make_app):
    app = make_app(dev_mode=False)
    assert app.test_client().get("/").status_code == 404
