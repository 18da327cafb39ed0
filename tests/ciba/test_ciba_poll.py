"""CIBA in poll mode, as a hospital DPI uses PSC: ask, the professional approves on e-CPS or
with the card, poll for tokens."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from psc_idp.extensions import db
from psc_idp.means.card.decision import decide_with_card, sign_decision
from psc_idp.means.ecps import pushes
from psc_idp.pki import issue_card
from psc_idp.protocol.ciba.grant import PENDING
from psc_idp.protocol.ciba.models import CibaRequest
from tests.helpers import USERINFO, decode
from tests.means.ecps.helpers import activate_by_contact

NURSE = "899700100490"
DENTIST = "899700100235"


def _error(response) -> str:
    return response.get_json()["error"]


def test_mobile_request_approved_on_the_phone(app, dpi):
    phone = activate_by_contact(app, NURSE, pin="1357")
    asked = dpi.ask(login_hint=NURSE, acr_values="eidas1")
    assert asked.status_code == 200, asked.get_json()
    body = asked.get_json()
    assert set(body) == {"auth_req_id", "expires_in", "interval"}
    assert (body["expires_in"], body["interval"]) == (120, 5)
    pending = dpi.poll(body["auth_req_id"])
    assert pending.status_code == 400
    assert pending.get_json() == {"error": "authorization_pending", "error_description": PENDING}
    request = next(r for r in phone.pending() if r["kind"] == "ciba")
    assert request["client_name"] == "DPI de test" and request["binding_message"] == "42"
    assert phone.decide(request, "approve", pin="1357").status_code == 200
    tokens = dpi.poll(body["auth_req_id"])
    assert tokens.status_code == 200, tokens.get_json()
    token = tokens.get_json()
    assert token["session_state"] and token["refresh_token"]
    claims = decode(token["id_token"])
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        NURSE,
        "MOBILE",
        "eidas1",
    )
    info = app.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info.status_code == 200 and info.get_json()["authMode"] == "MOBILE"
    assert _error(dpi.poll(body["auth_req_id"])) == "invalid_grant"  # tokens once


def test_polling_too_fast_slows_down(app, dpi):
    activate_by_contact(app, NURSE)
    auth_req_id = dpi.ask(login_hint=NURSE).get_json()["auth_req_id"]
    assert _error(dpi.poll(auth_req_id)) == "authorization_pending"
    assert _error(dpi.poll(auth_req_id, early_ok=False)) == "slow_down"
    with app.app_context():
        interval = db.session.query(CibaRequest).order_by(CibaRequest.created_at.desc()).first()
        assert interval.interval == 10


def test_denied_and_expired(app, dpi):
    phone = activate_by_contact(app, NURSE)
    denied = dpi.ask(login_hint=NURSE, binding_message="07").get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["binding_message"] == "07")
    phone.decide(request, "deny")
    assert _error(dpi.poll(denied)) == "access_denied"
    expired = dpi.ask(login_hint=NURSE, requested_expiry="30").get_json()
    assert expired["expires_in"] == 30
    with app.app_context():
        for row in db.session.query(CibaRequest).filter(CibaRequest.status == "pending"):
            row.expires_at = row.created_at
        db.session.commit()
    assert _error(dpi.poll(expired["auth_req_id"])) == "expired_token"


def test_unknown_or_foreign_auth_req_id(app, dpi, clients):
    assert _error(dpi.poll("not-a-request")) == "invalid_grant"
    activate_by_contact(app, NURSE)
    auth_req_id = dpi.ask(login_hint=NURSE).get_json()["auth_req_id"]
    from tests.helpers import basic

    other = app.test_client().post(
        "/auth/realms/esante-wallet/protocol/openid-connect/token",
        data={"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": auth_req_id},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    assert other.status_code == 400 and _error(other) in ("unauthorized_client", "invalid_grant")


@pytest.mark.parametrize(
    "params,error",
    [
        ({"login_hint": "899700999990"}, "unknown_user_id"),
        ({"login_hint": "899700101225"}, "unknown_user_id"),  # inactive
        ({"login_hint": "not an id"}, "unknown_user_id"),
        ({"login_hint_token": "x"}, "invalid_request"),
        ({}, "invalid_request"),
        ({"login_hint": NURSE, "scope": "scope_all"}, "invalid_request"),
        (
            {"login_hint": NURSE, "binding_message": "<script>alert(1)</script>"},
            "invalid_binding_message",
        ),
        ({"login_hint": NURSE, "binding_message": "x" * 21}, "invalid_binding_message"),
        ({"login_hint": NURSE, "channel": "FAX"}, "invalid_request"),
        ({"login_hint": NURSE, "acr_values": "eidas3"}, "invalid_request"),
        ({"login_hint": NURSE, "requested_expiry": "-1"}, "invalid_request"),
    ],
)
def test_bad_requests_get_the_right_error(app, dpi, params, error):
    response = dpi.ask(**params)
    assert response.status_code == 400, response.get_json()
    assert _error(response) == error


def test_no_active_ecps_is_refused_clearly(app, dpi):
    response = dpi.ask(login_hint="899700100151")  # the pharmacist has no e-CPS
    assert response.status_code == 400
    assert response.get_json()["error"] == "access_denied"
    assert "channel=CARD" in response.get_json()["error_description"]


def test_client_must_be_registered_for_ciba(app, clients):
    from tests.ciba.conftest import CIBA_AUTH
    from tests.helpers import basic

    response = app.test_client().post(
        CIBA_AUTH,
        data={"scope": "openid", "login_hint": NURSE},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    assert response.status_code == 400 and _error(response) == "unauthorized_client"
    wrong = app.test_client().post(
        CIBA_AUTH, data={"scope": "openid", "login_hint": NURSE}, headers=basic("dpi-test", "wrong")
    )
    assert wrong.status_code == 401 and _error(wrong) == "invalid_client"


def test_id_token_hint_names_the_professional(app, dpi, browser, clients):
    from tests.helpers import login_and_get_tokens

    id_token = login_and_get_tokens(app, browser, clients.web)["id_token"]
    activate_by_contact(app, "899700218896")
    response = dpi.ask(id_token_hint=id_token)
    assert response.status_code == 200, response.get_json()


def test_card_channel_approved_with_the_card_key(app, dpi):
    with app.app_context():
        card = issue_card(DENTIST)
        db.session.commit()
        certificate = x509.load_pem_x509_certificate(card.certificate_pem())
        key = load_pem_private_key(card.private_key_pem(), None)
    asked = dpi.ask(login_hint=DENTIST, channel="CARD", acr_values="eidas3")
    assert asked.status_code == 200, asked.get_json()
    auth_req_id = asked.get_json()["auth_req_id"]
    assert _error(dpi.poll(auth_req_id)) == "authorization_pending"
    with app.app_context():
        request = (
            db.session.query(CibaRequest).filter_by(national_id=DENTIST, status="pending").one()
        )
        token = sign_decision(request, "approve", certificate, key)
        decided, status = decide_with_card(token)
        assert status == "approved"
    tokens = dpi.poll(auth_req_id).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["authMode"], claims["acr"]) == ("CARD", "eidas3")


def test_realm_scenario_answers_ciba(app, dpi):
    from psc_idp.means.ecps.scenarios import upsert_scenarios

    with app.app_context():
        upsert_scenarios([{"national_id": "899700100805", "action": "approve", "delay": 0}])
        db.session.commit()
    auth_req_id = dpi.ask(login_hint="899700100805").get_json()["auth_req_id"]
    assert dpi.poll(auth_req_id).status_code == 200


def test_two_approvals_one_wins(app, dpi):
    first = activate_by_contact(app, NURSE, pin="1111")
    second = activate_by_contact(app, NURSE, pin="2222")
    dpi.ask(login_hint=NURSE, binding_message="99")
    request = next(r for r in first.pending() if r["binding_message"] == "99")
    assert first.decide(request, "approve", pin="1111").status_code == 200
    late = second.decide(request, "approve", pin="2222")
    assert late.status_code == 409
    with app.app_context():
        assert pushes.state(db.session.get(pushes.EcpsPush, request["id"])) == "approved"


def test_three_instances_one_request(make_app, dpi):
    """Asked on one instance, approved through a second, polled on a third."""
    first, second, third = make_app(), make_app(), make_app()
    from tests.ciba.conftest import Dpi

    phone = activate_by_contact(second, NURSE, pin="2468")
    asked = Dpi(first, dpi.client_id, dpi.secret).ask(login_hint=NURSE, binding_message="33")
    auth_req_id = asked.get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["binding_message"] == "33")
    assert phone.decide(request, "approve", pin="2468").status_code == 200
    tokens = Dpi(third, dpi.client_id, dpi.secret).poll(auth_req_id)
    assert tokens.status_code == 200


def test_approval_after_expiry_is_refused(app, dpi):
    phone = activate_by_contact(app, NURSE)
    auth_req_id = dpi.ask(login_hint=NURSE, binding_message="44").get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["binding_message"] == "44")
    with app.app_context():
        row = db.session.query(CibaRequest).filter_by(binding_message="44").one()
        row.expires_at = row.created_at
        push = db.session.get(pushes.EcpsPush, row.push_id)
        push.expires_at = push.created_at
        db.session.commit()
    assert phone.decide(request, "approve", pin="1234").status_code == 409
    assert _error(dpi.poll(auth_req_id)) == "expired_token"
