"""Pairing by a CPS card login (``pairing: {means: [MOBILE, CARD]}``): the card's certificate
(mutual TLS, here the WSGI environ as the TLS listener sets it) names the national id paired."""

from __future__ import annotations

import html
import re

import pytest

from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiTiersPairing
from psc_idp.pki import issue_card, revoke
from tests.helpers import decode
from tests.means.fi_tiers.conftest import ALIAS, configure, provider_entry
from tests.means.fi_tiers.test_fi_tiers_login import BrokeredLogin

DOCTOR = "899700427885"


@pytest.fixture(scope="module")
def card(app) -> str:
    with app.app_context():
        issued = issue_card(DOCTOR)
        db.session.commit()
        return issued.certificate_pem().decode()


def _with_card(pem: str) -> dict[str, str]:
    return {"SSL_CLIENT_CERT": pem}


def _configure(app, upstream, means: list[str]) -> None:
    configure(app, provider_entry(upstream, pairing={"means": means, "lifetime": 3600}))


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_card_pairs_its_national_id_then_logins_go_straight_through(
    app, clients, upstream, card, cleanup
):
    _configure(app, upstream, ["MOBILE", "CARD"])
    login = BrokeredLogin(app, clients.web, upstream)
    back = login.back_from_provider("hugo")
    pairing_page = back.headers["Location"]
    assert pairing_page.endswith("/fi_tiers")
    plain = html.unescape(login.browser.http.get(pairing_page).get_data(as_text=True))
    # Both means offered; the card on the origin that asks for a certificate.
    assert "Envoyer la demande sur mon e-CPS" in plain
    assert f'href="https://localhost:8443{pairing_page}"' in plain

    page = login.browser.http.get(pairing_page, environ_base=_with_card(card))
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and DOCTOR in text and "Associer avec cette carte" in text
    done = login.browser.http.post(
        pairing_page,
        data={"csrf_token": _csrf(text), "step": "card"},
        environ_base=_with_card(card),
    )
    claims = decode(login.tokens(done)["id_token"])
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"], claims["amr"]) == (
        DOCTOR,
        "FI_TIERS",
        "eidas2",
        ["pwd", "mfa"],
    )
    with app.app_context():
        pairing = db.session.get(FiTiersPairing, (ALIAS, "hugo"))
        assert (pairing.national_id, pairing.paired_by) == (DOCTOR, "CARD")

    again = BrokeredLogin(app, clients.web, upstream)
    claims = decode(again.tokens(again.back_from_provider("hugo"))["id_token"])
    assert claims["SubjectNameID"] == DOCTOR  # paired: no card, no e-CPS this time


def test_the_card_is_refused_where_the_provider_does_not_list_it(
    app, clients, upstream, card, cleanup
):
    _configure(app, upstream, ["MOBILE"])
    login = BrokeredLogin(app, clients.web, upstream)
    pairing_page = login.back_from_provider("ines").headers["Location"]
    page = login.browser.http.get(pairing_page, environ_base=_with_card(card))
    text = page.get_data(as_text=True)
    assert "carte CPS" not in text and "8443" not in text  # not offered
    refused = login.browser.http.post(
        pairing_page,
        data={"csrf_token": _csrf(text), "step": "card"},
        environ_base=_with_card(card),
    )
    assert refused.status_code == 400
    assert "n'est pas proposé" in html.unescape(refused.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(FiTiersPairing, (ALIAS, "ines")) is None


def test_card_only_offers_no_ecps(app, clients, upstream, card, cleanup):
    _configure(app, upstream, ["CARD"])
    login = BrokeredLogin(app, clients.web, upstream)
    pairing_page = login.back_from_provider("jules").headers["Location"]
    text = html.unescape(login.browser.http.get(pairing_page).get_data(as_text=True))
    assert "e-CPS" not in text.split("<h1>")[1] and "Utiliser ma carte CPS" in text
    with_card = login.browser.http.get(pairing_page, environ_base=_with_card(card))
    refused = login.browser.http.post(
        pairing_page,
        data={
            "csrf_token": _csrf(with_card.get_data(as_text=True)),
            "step": "identify",
            "national_id": DOCTOR,
        },
    )
    assert refused.status_code == 400
    assert "n'est pas proposé" in html.unescape(refused.get_data(as_text=True))


def test_no_card_or_a_revoked_one_does_not_pair(app, clients, upstream, cleanup):
    _configure(app, upstream, ["MOBILE", "CARD"])
    with app.app_context():
        issued = issue_card("899700100151")
        revoke(issued.serial)
        db.session.commit()
    revoked = issued.certificate_pem().decode()
    login = BrokeredLogin(app, clients.web, upstream)
    pairing_page = login.back_from_provider("karl").headers["Location"]
    page = login.browser.http.get(pairing_page, environ_base=_with_card(revoked))
    text = html.unescape(page.get_data(as_text=True))
    assert "Carte refusée" in text and "révoqu" in text.lower()
    csrf = _csrf(text)
    for environ in (_with_card(revoked), {"wsgi.url_scheme": "https"}):
        refused = login.browser.http.post(
            pairing_page, data={"csrf_token": csrf, "step": "card"}, environ_base=environ
        )
        assert refused.status_code == 400
    assert "Aucun certificat" in html.unescape(refused.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(FiTiersPairing, (ALIAS, "karl")) is None
