"""The picker says when it lists only part of the directory."""

from __future__ import annotations

from psc_idp.directory.national_id import rpps_luhn_key
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.extensions import db
from psc_idp.means.dev.picker import SHOWN, french_number
from tests.helpers import Browser, pkce_pair

MANY = SHOWN + 12
NOTE = f"{SHOWN} sur {MANY} affichés — affinez la recherche"


def _luhn_id(serial: int) -> str:
    first10 = f"9970090{serial:03d}"  # RPPS test range; "8" is the national id's type
    return f"8{first10}{rpps_luhn_key(first10)}"


def _many_practitioners(app) -> None:
    with app.app_context():
        upsert_practitioners(
            [
                {
                    "national_id": _luhn_id(i),
                    "family_name": f"ZZTRONQUE{i:03d}",
                    "given_names": ["TEST"],
                    "exercices": [{"profession": "10"}],
                }
                for i in range(MANY)
            ]
        )
        db.session.commit()


def _picker(app, clients, query: str) -> str:
    browser = Browser(app)
    _, challenge = pkce_pair()
    start = browser.authorize(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    page = browser.http.get(f"{start.headers['Location']}/dev", query_string={"q": query})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_picker_says_how_many_it_hides(app, clients):
    _many_practitioners(app)
    html = _picker(app, clients, "ZZTRONQUE")
    assert NOTE in html
    assert html.count('name="national_id" value=') == SHOWN


def test_picker_says_nothing_when_all_are_shown(app, clients):
    _many_practitioners(app)
    html = _picker(app, clients, "ZZTRONQUE001")
    assert "affinez la recherche" not in html
    assert "ZZTRONQUE001" in html


def test_french_number_groups_thousands():
    assert french_number(2020) == "2\u202f020"
    assert french_number(50) == "50"
    assert french_number(1234567) == "1\u202f234\u202f567"
