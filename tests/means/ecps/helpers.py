"""Acting as a phone in tests: a VirtualDevice talking to the device API through Flask."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import update

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsPush
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice

API = "/ecps/api/v1"
BASE = "http://localhost:8080"


@dataclass
class Phone:
    app: Flask
    device: VirtualDevice

    def call(self, method: str, path: str, json: Any = None, token: str | None = None):
        url = f"{API}{path.split('?')[0]}"
        token = token or self.device.call_token(method, BASE + url)
        return self.app.test_client().open(
            f"{API}{path}",
            method=method,
            json=json,
            headers={"Authorization": f"ECPS-Device {token}"},
        )

    def pending(self) -> list[dict[str, Any]]:
        """The phone's pending requests, newest first (as the app lists them)."""
        response = self.call("GET", "/requests")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["requests"]

    def decide(self, request: dict[str, Any], decision: str, pin: str = "", **override: Any):
        token = self.device.decision(
            override.get("request_id", request["id"]),
            decision,
            override.get("binding_message", request["binding_message"]),
            pin,
        )
        return self.call("POST", f"/requests/{request['id']}/decision", json={"decision": token})


def cancel_pending_pushes(app: Flask) -> None:
    """No request left waiting on any phone: a professional may have only
    ``PSC_ECPS_MAX_PENDING_PUSHES`` waiting, and the tests share one database."""
    with app.app_context():
        db.session.execute(
            update(EcpsPush).where(EcpsPush.status == "pending").values(status="cancelled")
        )
        db.session.commit()


def outbox_codes(app: Flask, national_id: str) -> tuple[str, str]:
    """The e-mail and SMS codes just sent to ``national_id`` (development outbox)."""
    from psc_idp.means.ecps import outbox

    with app.app_context():
        messages = outbox.latest(national_id, limit=2)
        codes = {m.channel: re.search(r"(\d{6})", m.body).group(1) for m in messages}
    return codes["email"], codes["sms"]


def activate_by_contact(app: Flask, national_id: str, pin: str = "1234") -> Phone:
    http = app.test_client()
    started = http.post(f"{API}/activations", json={"national_id": national_id})
    # 200: a live activation of this professional was reused (its codes are in the outbox).
    assert started.status_code in (200, 201), started.get_json()
    activation_id = started.get_json()["activation_id"]
    email_code, sms_code = outbox_codes(app, national_id)
    device = VirtualDevice.generate()
    done = http.post(
        f"{API}/activations/{activation_id}/complete",
        json={
            "email_code": email_code,
            "sms_code": sms_code,
            "pin": pin,
            "public_key": device.public_jwk,
            "proof": device.activation_proof(activation_id),
            "device": {"name": "Téléphone de test", "platform": "test"},
        },
    )
    assert done.status_code == 201, done.get_json()
    device.device_id = done.get_json()["device_id"]
    device.national_id = national_id
    return Phone(app, device)


def completion(activation_id: str, email_code: str, sms_code: str) -> dict[str, Any]:
    """What a new device sends to complete a contact activation."""
    device = VirtualDevice.generate()
    return {
        "email_code": email_code,
        "sms_code": sms_code,
        "pin": "1234",
        "public_key": device.public_jwk,
        "proof": device.activation_proof(activation_id),
    }
