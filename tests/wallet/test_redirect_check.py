"""A redirect_uri that matches no registered one: shown beside them in development mode only."""

from __future__ import annotations

import pytest

from tests.helpers import AUTHORIZE, TestClients, pkce_pair

REGISTERED = "http://localhost:3000/callback"


def _ask(app, **params: str):
    clients = TestClients.ensure(app)
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": clients.web.client_id,
        "redirect_uri": REGISTERED,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    response = app.test_client().get(AUTHORIZE, query_string=query)
    assert response.status_code == 400 and "Location" not in response.headers
    return response.get_data(as_text=True)


def test_development_mode_shows_received_beside_registered(app):
    html = _ask(app, redirect_uri="http://localhost:3001/callback")
    box = html.split('class="redirect-check"')[1]
    assert "http://localhost:3001/callback" in box
    assert REGISTERED in box.split("Elle doit être identique")[1]


def test_received_uri_is_escaped_and_cut(app):
    html = _ask(app, redirect_uri=REGISTERED + '"><script>alert(1)</script>' + "x" * 3000)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html and "(tronquée)" in html
    assert "x" * 600 not in html


def test_missing_redirect_uri_with_several_registered_lists_them(app):
    from psc_idp.extensions import db
    from psc_idp.protocol.clients import upsert_client

    with app.app_context():
        upsert_client(
            {
                "client_id": "check-two-uris",
                "token_endpoint_auth_method": "none",
                "redirect_uris": [REGISTERED, "http://localhost:3000/other"],
            }
        )
        db.session.commit()
    _, challenge = pkce_pair()
    response = app.test_client().get(
        AUTHORIZE,
        query_string={
            "response_type": "code",
            "client_id": "check-two-uris",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ne contient pas de <code>redirect_uri</code>" in html
    assert "http://localhost:3000/other" in html


@pytest.mark.parametrize("uri", ["https://evil.example/callback", "http://localhost:3001/cb"])
def test_production_echoes_neither_received_nor_registered(make_app, uri):
    app = make_app(dev_mode=False)
    html = _ask(app, redirect_uri=uri)
    assert "Demande de connexion invalide" in html
    assert uri not in html and REGISTERED not in html
    assert 'class="redirect-check"' not in html
