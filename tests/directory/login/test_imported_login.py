"""A professional known only from an imported extract logs in and gets PSC's userinfo; once a
full file no longer lists them, their tokens stop working."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from psc_idp.directory.importers import run_import
from psc_idp.extensions import db
from psc_idp.pki import issue_card
from tests.directory.import_files import LAYOUTS, row, rpps, write
from tests.helpers import Browser, basic, decode, exchange_code, pkce_pair, query_of
from tests.means.ecps.helpers import activate_by_contact
from tests.means.ecps.test_login_with_ecps import EcpsLogin

USERINFO = "/auth/realms/esante-wallet/protocol/openid-connect/userinfo"
INTROSPECT = "/auth/realms/esante-wallet/protocol/openid-connect/token/introspect"
TOKEN = "/auth/realms/esante-wallet/protocol/openid-connect/token"
IMPORTED, OTHER = rpps(900), rpps(901)


def _extract(tmp_path: Path, *people: str) -> Path:
    rows = []
    if IMPORTED in people:
        rows += [
            row(
                IMPORTED,
                **{
                    "Adresse e-mail (coord. correspondance)": "imported@exemple.test",
                    "Autres identifiants": f"{IMPORTED},RPPS,1;0751234567,ADELI,0",
                },
            ),
            row(
                IMPORTED,
                **{
                    "Identifiant technique de la structure": "F750000001",
                    "Raison sociale site": "HOPITAL",
                    "Code mode exercice": "S",
                    "Code secteur d'activité": "SA01",
                    "Code rôle": "",
                },
            ),
        ]
    rows += [row(OTHER, **{"Nom d'exercice": "AUTRE"})] if OTHER in people else []
    return write(tmp_path / f"extract-{len(people)}.txt", LAYOUTS["psc-extract-51"], rows)


def _userinfo(app: Flask, access_token: str):
    return app.test_client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})


def _introspect(app: Flask, clients, access_token: str) -> dict:
    auth = basic(clients.web.client_id, clients.web.secret)
    return app.test_client().post(INTROSPECT, data={"token": access_token}, headers=auth).get_json()


def test_imported_professional_logs_in_with_ecps_until_a_full_file_drops_them(
    app: Flask, clients, tmp_path: Path
) -> None:
    with app.app_context():
        assert run_import(_extract(tmp_path, IMPORTED, OTHER), full=True).created == 2
    phone = activate_by_contact(app, IMPORTED, pin="2468")
    login = EcpsLogin(app, clients.web)
    login.browser.http.get(login.identify(IMPORTED).headers["Location"])
    assert phone.decide(phone.pending()[-1], "approve", pin="2468").status_code == 200
    callback = login.callback(login.complete())
    tokens = exchange_code(app, clients.web, callback["code"], login.verifier).get_json()
    assert decode(tokens["id_token"])["authMode"] == "MOBILE"

    info = _userinfo(app, tokens["access_token"]).get_json()
    assert (info["SubjectNameID"], info["given_name"], info["family_name"]) == (
        IMPORTED,
        "JEAN",
        "DUPONT",
    )
    assert (info["authMode"], info["SubjectOrganizationID"]) == ("MOBILE", "R10000001")
    activities = info["SubjectRefPro"]["exercices"][0]["activities"]
    assert [
        (a["codeModeExercice"], a["codeSecteurDactivite"], a["codeRole"]) for a in activities
    ] == [
        ("L", "SA07", "FON-01"),
        ("S", "SA01", ""),
    ]
    assert info["otherIds"][1] == {"identifiant": "0751234567", "origine": "ADELI", "qualite": 0}
    assert _introspect(app, clients, tokens["access_token"])["active"] is True

    with app.app_context():
        assert run_import(_extract(tmp_path, OTHER), full=True).deactivated == 1
    assert _userinfo(app, tokens["access_token"]).status_code == 401
    assert _introspect(app, clients, tokens["access_token"]) == {"active": False}
    refused = app.test_client().post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    assert refused.status_code == 400
    assert refused.get_json() == {"error": "invalid_grant", "error_description": "User disabled"}


def test_imported_professional_logs_in_with_a_test_card(
    app: Flask, clients, tmp_path: Path
) -> None:
    with app.app_context():
        run_import(_extract(tmp_path, IMPORTED, OTHER))
        card = issue_card(OTHER)
        db.session.commit()
        pem = card.certificate_pem().decode()
    browser = Browser(app)
    verifier, challenge = pkce_pair()
    start = browser.authorize(
        clients.web.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    card_page = f"{start.headers['Location']}/card"
    html = browser.http.get(card_page, environ_base={"SSL_CLIENT_CERT": pem}).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = browser.http.post(
        card_page, data={"csrf_token": csrf}, environ_base={"SSL_CLIENT_CERT": pem}
    )
    callback = query_of(browser.http.get(done.headers["Location"]).headers["Location"])
    tokens = exchange_code(app, clients.web, callback["code"], verifier).get_json()
    info = _userinfo(app, tokens["access_token"]).get_json()
    assert (info["SubjectNameID"], info["authMode"], info["family_name"]) == (
        OTHER,
        "CARD",
        "AUTRE",
    )
    assert info["Palier_Authentification"] == "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
