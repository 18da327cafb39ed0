"""The simulator lists the newest request first (it reads the device API's listing)."""

from __future__ import annotations

import json
from datetime import timedelta

from psc_idp.extensions import db
from psc_idp.means.ecps import devices, pushes
from psc_idp.means.ecps.models import EcpsDevice
from psc_idp.timeutil import now
from tests.means.ecps.helpers import activate_by_contact

PHARMACIST = "899700101308"


def test_device_listing_is_newest_first(app):
    phone = activate_by_contact(app, PHARMACIST)
    for request in phone.pending():  # a clean slate for this professional
        phone.decide(request, "deny")
    with app.app_context():
        ids = []
        for age, binding in ((30, "11"), (10, "22"), (20, "33")):
            push = pushes.create_push(PHARMACIST, "login", "test-web", "Service", binding)
            push.created_at = now() - timedelta(seconds=age)
            ids.append(push.id)
        db.session.commit()
    listed = [r["binding_message"] for r in phone.pending()]
    # The device is revoked again: other tests expect this professional without one.
    with app.app_context():
        devices.revoke(db.session.get(EcpsDevice, phone.device.device_id), by="test")
        db.session.commit()
    assert listed == ["22", "33", "11"]


def test_cli_lists_the_newest_request_first(app):
    nurse = "899700100490"
    with app.app_context():
        for push in pushes.pending_for(nurse):
            pushes.cancel(push)
        older = pushes.create_push(nurse, "login", "test-web", "Service", "44")
        older.created_at = now() - timedelta(seconds=50)
        newer = pushes.create_push(nurse, "login", "test-web", "Service", "55")
        db.session.commit()
        expected = [newer.id, older.id]
    result = app.test_cli_runner().invoke(args=["ecps", "pending", nurse, "--json"])
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.output)] == expected
