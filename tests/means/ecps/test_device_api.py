"""The e-CPS device API, as a phone uses it, and how it refuses what a phone must not do."""

from __future__ import annotations

import pytest

from psc_idp.extensions import db
from psc_idp.means.ecps import pushes
from psc_idp.means.ecps.models import EcpsDevice
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.means.ecps.helpers import API, BASE, Phone, activate_by_contact, outbox_codes

NURSE = "899700100490"


def _push(app, national_id: str, binding: str = "42") -> str:
    with app.app_context():
        push = pushes.create_push(national_id, "login", "test-web", "Service de test", binding)
        db.session.commit()
        return push.id


def test_activation_by_contact_data_then_approval_with_pin(app):
    phone = activate_by_contact(app, NURSE, pin="2468")
    info = phone.call("GET", "/device").get_json()
    assert info["national_id"] == NURSE and info["status"] == "active"
    push_id = _push(app, NURSE)
    request = next(r for r in phone.pending() if r["id"] == push_id)
    assert request["client_name"] == "Service de test" and request["binding_message"] == "42"
    answer = phone.decide(request, "approve", pin="2468")
    assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    with app.app_context():
        assert pushes.state(db.session.get(pushes.EcpsPush, push_id)) == "approved"


def test_unknown_national_id_looks_the_same_but_cannot_activate(app):
    http = app.test_client()
    known = http.post(f"{API}/activations", json={"national_id": NURSE})
    unknown = http.post(f"{API}/activations", json={"national_id": "899700999990"})
    assert known.status_code == unknown.status_code == 201
    assert set(known.get_json()) == set(unknown.get_json())
    device = VirtualDevice.generate()
    activation_id = unknown.get_json()["activation_id"]
    done = http.post(
        f"{API}/activations/{activation_id}/complete",
        json={
            "email_code": "000000",
            "sms_code": "000000",
            "pin": "1234",
            "public_key": device.public_jwk,
            "proof": device.activation_proof(activation_id),
        },
    )
    assert done.status_code == 400 and done.get_json()["error"] == "invalid_code"


def test_activation_codes_are_single_use_and_limited(app):
    http = app.test_client()
    activation_id = http.post(f"{API}/activations", json={"national_id": NURSE}).get_json()[
        "activation_id"
    ]
    email_code, sms_code = outbox_codes(app, NURSE)
    device = VirtualDevice.generate()
    body = {
        "email_code": email_code,
        "sms_code": "999999" if sms_code != "999999" else "888888",
        "pin": "1234",
        "public_key": device.public_jwk,
        "proof": device.activation_proof(activation_id),
    }
    wrong = http.post(f"{API}/activations/{activation_id}/complete", json=body)
    assert wrong.get_json()["error"] == "invalid_code" and wrong.get_json()["attempts_left"] == 4
    body["sms_code"] = sms_code
    assert http.post(f"{API}/activations/{activation_id}/complete", json=body).status_code == 201
    again = http.post(f"{API}/activations/{activation_id}/complete", json=body)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_activation"


def test_activation_needs_proof_of_the_key(app):
    http = app.test_client()
    activation_id = http.post(f"{API}/activations", json={"national_id": NURSE}).get_json()[
        "activation_id"
    ]
    email_code, sms_code = outbox_codes(app, NURSE)
    device, other = VirtualDevice.generate(), VirtualDevice.generate()
    done = http.post(
        f"{API}/activations/{activation_id}/complete",
        json={
            "email_code": email_code,
            "sms_code": sms_code,
            "pin": "1234",
            "public_key": device.public_jwk,
            "proof": other.activation_proof(activation_id),
        },
    )
    assert done.status_code == 400 and done.get_json()["error"] == "invalid_proof"


@pytest.mark.parametrize(
    "change",
    ["no_header", "other_key", "replayed", "wrong_url", "wrong_method", "revoked"],
)
def test_device_calls_must_be_signed_fresh_and_for_this_call(app, change):
    phone = activate_by_contact(app, NURSE)
    url = f"{BASE}{API}/requests"
    token = phone.device.call_token("GET", url)
    if change == "no_header":
        response = app.test_client().get(f"{API}/requests")
    elif change == "other_key":
        impostor = VirtualDevice.generate()
        impostor.device_id = phone.device.device_id
        response = phone.call("GET", "/requests", token=impostor.call_token("GET", url))
    elif change == "replayed":
        assert phone.call("GET", "/requests", token=token).status_code == 200
        response = phone.call("GET", "/requests", token=token)
    elif change == "wrong_url":
        response = phone.call("GET", "/requests", token=phone.device.call_token("GET", url + "x"))
    elif change == "wrong_method":
        response = phone.call("GET", "/requests", token=phone.device.call_token("POST", url))
    else:
        assert phone.call("DELETE", "/device").status_code == 204
        response = phone.call("GET", "/requests")
    assert response.status_code == 401
    expected = "device_revoked" if change == "revoked" else "invalid_device_token"
    assert response.get_json()["error"] == expected


def test_decisions_are_checked_and_accepted_once(app):
    phone = activate_by_contact(app, NURSE)
    push_id = _push(app, NURSE, binding="17")
    request = next(r for r in phone.pending() if r["id"] == push_id)
    wrong_binding = phone.decide(request, "approve", pin="1234", binding_message="99")
    assert wrong_binding.get_json()["error"] == "invalid_decision"
    other = activate_by_contact(app, NURSE)
    forged = Phone(app, phone.device)
    token = other.device.decision(request["id"], "approve", "17", "1234")
    signed_by_other = forged.call(
        "POST", f"/requests/{request['id']}/decision", json={"decision": token}
    )
    assert signed_by_other.status_code == 401
    token = phone.device.decision(request["id"], "deny", "17")
    first = phone.call("POST", f"/requests/{request['id']}/decision", json={"decision": token})
    assert first.get_json()["status"] == "denied"
    replay = phone.call("POST", f"/requests/{request['id']}/decision", json={"decision": token})
    assert replay.status_code == 409


def test_expired_request_cannot_be_approved(app):
    phone = activate_by_contact(app, NURSE)
    push_id = _push(app, NURSE)
    request = next(r for r in phone.pending() if r["id"] == push_id)
    with app.app_context():
        push = db.session.get(pushes.EcpsPush, push_id)
        push.expires_at = push.created_at
        db.session.commit()
    answer = phone.decide(request, "approve", pin="1234")
    assert answer.status_code == 409 and "expired" in answer.get_json()["error_description"]
    assert push_id not in {r["id"] for r in phone.pending()}


def test_three_wrong_pins_lock_the_device(app):
    phone = activate_by_contact(app, NURSE, pin="1111")
    push_id = _push(app, NURSE)
    request = next(r for r in phone.pending() if r["id"] == push_id)
    first = phone.decide(request, "approve", pin="0000")
    assert first.status_code == 403 and first.get_json()["attempts_left"] == 2
    assert phone.decide(request, "approve", pin="0001").get_json()["attempts_left"] == 1
    locked = phone.decide(request, "approve", pin="0002")
    assert locked.status_code == 423 and locked.get_json()["error"] == "device_locked"
    # The right PIN no longer helps; the lock is visible to the device.
    assert phone.decide(request, "approve", pin="1111").status_code == 423
    assert phone.call("GET", "/device").get_json()["status"] == "locked"
    with app.app_context():
        device = db.session.get(EcpsDevice, phone.device.device_id)
        assert device.status == "locked" and device.locked_at is not None
        from psc_idp.audit import recent

        events = [e.event for e in recent(NURSE)]
        assert "device_locked" in events and events.count("wrong_pin") >= 3


def test_correct_pin_resets_the_failure_count(app):
    phone = activate_by_contact(app, NURSE, pin="1212")
    for _ in range(2):
        push_id = _push(app, NURSE)
        request = next(r for r in phone.pending() if r["id"] == push_id)
        assert phone.decide(request, "approve", pin="0000").status_code == 403
        assert phone.decide(request, "approve", pin="1212").status_code == 200
    assert phone.call("GET", "/device").get_json()["pin_failures"] == 0


def test_long_poll_returns_when_a_request_arrives(app):
    phone = activate_by_contact(app, NURSE)
    for request in phone.pending():  # start from a clean slate for this professional
        phone.decide(request, "deny")
    empty = phone.call("GET", "/requests?wait=1")
    assert empty.status_code == 200 and empty.get_json()["requests"] == []


def test_bad_json_gets_an_error_not_a_crash(app):
    http = app.test_client()
    for body in (None, [], {"national_id": 12}, {"national_id": "x" * 5000}):
        response = http.post(f"{API}/activations", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"] in ("invalid_request", "invalid_national_id")
    garbage = http.post(f"{API}/activations/nope/complete", data="not json")
    assert garbage.status_code == 400


def test_long_poll_answers_when_the_pending_set_changes(app):
    phone = activate_by_contact(app, NURSE)
    for request in phone.pending():
        phone.decide(request, "deny")
    push_id = _push(app, NURSE)
    shown = phone.call("GET", f"/requests?wait=1&known={push_id}")
    assert [r["id"] for r in shown.get_json()["requests"]] == [push_id]  # waited: no change
    with app.app_context():
        pushes.cancel(db.session.get(pushes.EcpsPush, push_id))
    changed = phone.call("GET", f"/requests?wait=25&known={push_id}")
    assert changed.get_json()["requests"] == []  # at once, not after 25 s


def test_unknown_and_revoked_devices_are_told_apart(app):
    phone = activate_by_contact(app, NURSE)
    stranger = VirtualDevice.generate()
    stranger.device_id = "00000000-0000-0000-0000-000000000000"
    unknown = Phone(app, stranger).call("GET", "/device")
    assert unknown.status_code == 401 and unknown.get_json()["error"] == "unknown_device"
    phone.call("DELETE", "/device")
    revoked = phone.call("GET", "/device")
    assert revoked.status_code == 401 and revoked.get_json()["error"] == "device_revoked"
