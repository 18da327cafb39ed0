"""Approval fatigue on la mire: one live push per login, a cap of pending pushes per
professional (CIBA's side: tests/ciba/test_ciba_push_cap.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsPush
from tests.means.ecps.helpers import activate_by_contact
from tests.means.ecps.test_login_with_ecps import EcpsLogin

LOCUM = "899700100987"  # Dr Julie ROUX


@pytest.fixture
def phone(app):
    with app.app_context():
        db.session.execute(
            update(EcpsPush)
            .where(EcpsPush.national_id == LOCUM, EcpsPush.status == "pending")
            .values(status="cancelled")
        )
        db.session.commit()
    return activate_by_contact(app, LOCUM, pin="2580")


def _statuses(app, tx_id: str) -> list[str]:
    with app.app_context():
        query = select(EcpsPush.status).where(EcpsPush.subject_ref == tx_id)
        return sorted(db.session.scalars(query))


def test_identifying_again_replaces_the_push_of_that_login(app, clients, phone):
    login = EcpsLogin(app, clients.web)
    for _ in range(5):
        assert login.identify(LOCUM).status_code == 302
    pending = phone.pending()
    assert len(pending) == 1
    tx_id = login.login_page.rsplit("/", 1)[-1]
    assert _statuses(app, tx_id) == ["cancelled"] * 4 + ["pending"]
    # The live one is the newest: approving it logs in.
    assert phone.decide(pending[0], "approve", pin="2580").status_code == 200
    assert login.status()["status"] == "approved"


def test_the_phone_learns_that_the_replaced_push_was_cancelled(app, clients, phone):
    login = EcpsLogin(app, clients.web)
    login.identify(LOCUM)
    first = phone.pending()[0]
    login.identify(LOCUM)
    answer = phone.call("GET", f"/requests?wait=25&known={first['id']}").get_json()
    assert answer["closed"] == [{"id": first["id"], "status": "cancelled"}]
    assert [r["id"] for r in answer["requests"]] != [first["id"]]


def test_a_cancelled_push_cannot_be_approved(app, clients, phone):
    login = EcpsLogin(app, clients.web)
    login.identify(LOCUM)
    first = phone.pending()[0]
    login.identify(LOCUM)
    refused = phone.decide(first, "approve", pin="2580")
    assert refused.status_code == 409
    assert "cancelled" in refused.get_json()["error_description"]


def test_pending_pushes_are_capped_per_professional(app, clients, phone):
    for _ in range(3):
        assert EcpsLogin(app, clients.web).identify(LOCUM).status_code == 302
    fourth = EcpsLogin(app, clients.web)
    refused = fourth.identify(LOCUM)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Trop de demandes attendent déjà une réponse sur votre application e-CPS" in page
    assert len(phone.pending()) == 3
    # Once one is answered, a new login may push again.
    phone.decide(phone.pending()[0], "deny")
    assert fourth.identify(LOCUM).status_code == 302
    assert len(phone.pending()) == 3
