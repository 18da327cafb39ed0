"""Approving a CARD-channel CIBA request: on the wallet page reached with the card, and with
``psc-idp cps approve`` (the card key signs the decision, as CPS-Gestion)."""

from __future__ import annotations

import json
import re

from psc_idp.extensions import db
from psc_idp.pki import issue_card
from tests.helpers import decode

PODIATRIST = "899700101142"


def _card(app, national_id: str):
    with app.app_context():
        issued = issue_card(national_id)
        db.session.commit()
        return issued


def test_wallet_page_with_the_card(app, dpi):
    card = _card(app, PODIATRIST)
    pem = card.certificate_pem().decode()
    auth_req_id = dpi.ask(login_hint=PODIATRIST, channel="CARD", binding_message="31").get_json()[
        "auth_req_id"
    ]
    http = app.test_client()
    without = http.get("/wallet/ciba")
    assert without.status_code == 400 and "Insérez votre carte" in without.get_data(as_text=True)
    page = http.get("/wallet/ciba", environ_base={"SSL_CLIENT_CERT": pem})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "DPI de test" in html and "31" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    action = re.search(r'action="(/wallet/ciba/[^"]+)"', html).group(1)
    forged = http.post(action, data={"decision": "approve"}, environ_base={"SSL_CLIENT_CERT": pem})
    assert forged.status_code == 400
    done = http.post(
        action,
        data={"decision": "approve", "csrf_token": csrf},
        environ_base={"SSL_CLIENT_CERT": pem},
    )
    assert done.status_code == 302
    tokens = dpi.poll(auth_req_id).get_json()
    assert decode(tokens["id_token"])["authMode"] == "CARD"


def test_cli_approve_signs_with_the_card(app, dpi, tmp_path):
    card = _card(app, PODIATRIST)
    cert, key = tmp_path / "card.crt.pem", tmp_path / "card.key.pem"
    cert.write_bytes(card.certificate_pem())
    key.write_bytes(card.private_key_pem())
    auth_req_id = dpi.ask(login_hint=PODIATRIST, channel="CARD", binding_message="77").get_json()[
        "auth_req_id"
    ]
    runner = app.test_cli_runner()
    denied_first = runner.invoke(
        args=["cps", "approve", "--cert", str(cert), "--key", str(key), "--deny", "--json"]
    )
    assert denied_first.exit_code == 0, denied_first.output
    assert json.loads(denied_first.output)["status"] == "denied"
    assert dpi.poll(auth_req_id).get_json()["error"] == "access_denied"
    again = dpi.ask(login_hint=PODIATRIST, channel="CARD").get_json()["auth_req_id"]
    approved = runner.invoke(
        args=["cps", "approve", "--cert", str(cert), "--key", str(key), "--wait", "2", "--json"]
    )
    assert approved.exit_code == 0, approved.output
    assert dpi.poll(again).status_code == 200
    nothing = runner.invoke(args=["cps", "approve", "--cert", str(cert), "--key", str(key)])
    assert nothing.exit_code != 0 and "aucune demande" in nothing.output
