"""Logging in with a CPS card: the certificate from psc-idp's TLS listener (WSGI environ) or
from a trusted reverse proxy header."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from psc_idp.extensions import db
from psc_idp.pki import issue_card, revoke
from tests.helpers import Browser, decode, exchange_code, pkce_pair, query_of

DOCTOR = "899700427885"


@pytest.fixture(scope="module")
def card(app) -> str:
    with app.app_context():
        issued = issue_card(DOCTOR)
        db.session.commit()
        return issued.certificate_pem().decode()


def _start(app, client) -> tuple[Browser, str, str]:
    browser = Browser(app)
    verifier, challenge = pkce_pair()
    start = browser.authorize(
        client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    return browser, f"{start.headers['Location']}/card", verifier


def _with_card(pem: str) -> dict[str, str]:
    return {"SSL_CLIENT_CERT": pem}


HTTPS = "https://localhost"


def test_card_login_through_the_tls_listener(app, clients, card):
    browser, card_page, verifier = _start(app, clients.web)
    plain = browser.http.get(card_page).get_data(as_text=True)
    assert "https://localhost:8443" in plain  # sent to the origin that asks for the card
    page = browser.http.get(card_page, environ_base=_with_card(card))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and DOCTOR in html and "Se connecter avec cette carte" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = browser.http.post(card_page, data={"csrf_token": csrf}, environ_base=_with_card(card))
    callback = query_of(browser.http.get(done.headers["Location"]).headers["Location"])
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        DOCTOR,
        "CARD",
        "eidas3",
    )


def test_posting_without_the_card_is_refused(app, clients, card):
    browser, card_page, _ = _start(app, clients.web)
    html = browser.http.get(card_page, environ_base=_with_card(card)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = browser.http.post(card_page, data={"csrf_token": csrf}, base_url=HTTPS)
    assert done.status_code == 400 and "Aucun certificat" in done.get_data(as_text=True)


def test_revoked_card_is_refused_with_its_reason(app, clients):
    with app.app_context():
        issued = issue_card("899700100151")
        revoke(issued.serial)
        db.session.commit()
    browser, card_page, _ = _start(app, clients.web)
    page = browser.http.get(card_page, environ_base=_with_card(issued.certificate_pem().decode()))
    assert page.status_code == 400
    assert "révoqu" in page.get_data(as_text=True).lower()


def _der_b64(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return base64.b64encode(der).decode()


@pytest.mark.parametrize("style", ["nginx", "rfc9440"])
def test_card_forwarded_by_a_trusted_proxy(make_app, card, style):
    app = make_app(trusted_proxies=["127.0.0.1"])
    from tests.helpers import TestClients

    clients = TestClients.ensure(app)
    browser, card_page, _ = _start(app, clients.web)
    header = (
        {"X-SSL-Client-Cert": quote(card)}
        if style == "nginx"
        else {"Client-Cert": f":{_der_b64(card)}:"}
    )
    trusted = browser.http.get(
        card_page,
        headers=header,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        base_url=HTTPS,
    )
    assert trusted.status_code == 200 and DOCTOR in trusted.get_data(as_text=True)
    untrusted = browser.http.get(
        card_page,
        headers=header,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
        base_url=HTTPS,
    )
    assert untrusted.status_code == 400
    assert "Aucun certificat" in untrusted.get_data(as_text=True)


def test_proxy_headers_are_ignored_by_default(app, clients, card):
    browser, card_page, _ = _start(app, clients.web)
    page = browser.http.get(
        card_page,
        headers={"X-SSL-Client-Cert": quote(card)},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        base_url=HTTPS,
    )
    assert page.status_code == 400 and "Aucun certificat" in page.get_data(as_text=True)
