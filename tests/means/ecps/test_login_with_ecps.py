"""Logging in to a service with the e-CPS application, as a professional does."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete

from psc_idp.extensions import db
from psc_idp.means.ecps import pushes
from psc_idp.means.ecps.models import EcpsScenario
from psc_idp.means.ecps.scenarios import upsert_scenarios
from tests.helpers import Browser, decode, exchange_code, pkce_pair, query_of
from tests.means.ecps.helpers import activate_by_contact

MIDWIFE = "899700100318"
PHYSIO_SCENARIO_APPROVE = "899700100722"
DENY_SCENARIO = "899700100805"
INACTIVE = "899700101225"


class EcpsLogin:
    """The browser side: la mire → « Application e-CPS » → national id → waiting page."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.browser = Browser(app)
        self.verifier, challenge = pkce_pair()
        start = self.browser.authorize(
            client.client_id, code_challenge=challenge, code_challenge_method="S256"
        )
        self.login_page = start.headers["Location"]
        self.means = f"{self.login_page}/ecps"
        html = self.browser.http.get(self.means).get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def identify(self, national_id: str):
        return self.browser.http.post(
            self.means,
            data={"csrf_token": self.csrf, "step": "identify", "national_id": national_id},
        )

    def status(self) -> dict:
        return self.browser.http.get(f"{self.means}/status").get_json()

    def complete(self):
        return self.browser.http.post(
            self.means, data={"csrf_token": self.csrf, "step": "complete"}
        )

    def cancel(self):
        return self.browser.http.post(self.means, data={"csrf_token": self.csrf, "step": "cancel"})

    def callback(self, response) -> dict[str, str]:
        assert response.status_code == 302, response.get_data(as_text=True)
        final = self.browser.http.get(response.headers["Location"])
        return query_of(final.headers["Location"])


def test_login_approved_on_the_phone(app, clients):
    phone = activate_by_contact(app, MIDWIFE, pin="4321")
    login = EcpsLogin(app, clients.web)
    sent = login.identify(MIDWIFE)
    assert sent.status_code == 302  # to the waiting page
    waiting = login.browser.http.get(sent.headers["Location"]).get_data(as_text=True)
    request = phone.pending()[0]
    assert request["binding_message"] in waiting
    assert request["client_name"] == "test-web"  # no display name: its client_id
    assert login.status()["status"] == "pending"
    assert phone.decide(request, "approve", pin="4321").status_code == 200
    assert login.status()["status"] == "approved"
    callback = login.callback(login.complete())
    tokens = exchange_code(app, clients.web, callback["code"], login.verifier).get_json()
    claims = decode(tokens["id_token"])
    assert (claims["authMode"], claims["acr"], claims["SubjectNameID"]) == (
        "MOBILE",
        "eidas1",
        MIDWIFE,
    )


def test_login_denied_on_the_phone_gives_access_denied(app, clients):
    phone = activate_by_contact(app, MIDWIFE)
    login = EcpsLogin(app, clients.web)
    login.identify(MIDWIFE)
    phone.decide(phone.pending()[0], "deny")
    assert login.callback(login.complete())["error"] == "access_denied"


def test_expired_request_can_be_sent_again(app, clients):
    activate_by_contact(app, MIDWIFE)
    login = EcpsLogin(app, clients.web)
    login.identify(MIDWIFE)
    with app.app_context():
        for push in pushes.pending_for(MIDWIFE):
            push.expires_at = push.created_at
        db.session.commit()
    assert login.status()["status"] == "expired"
    page = login.complete()
    assert page.status_code == 400
    assert "pas été validée à temps" in page.get_data(as_text=True)


def test_cancel_from_the_waiting_page(app, clients):
    activate_by_contact(app, MIDWIFE)
    login = EcpsLogin(app, clients.web)
    login.identify(MIDWIFE)
    page = login.cancel()
    assert "Demande annulée" in page.get_data(as_text=True)
    assert login.status()["status"] == "cancelled"


@pytest.mark.parametrize(
    "national_id",
    ["899700100151", INACTIVE, "899700999990"],
    ids=["no-device", "inactive", "unknown"],
)
def test_no_usable_ecps_gets_one_and_the_same_message(app, clients, national_id):
    login = EcpsLogin(app, clients.web)
    page = login.identify(national_id)
    assert page.status_code == 400
    assert "Aucune application e-CPS active" in page.get_data(as_text=True)


def test_locked_device_has_its_own_message(app, clients):
    phone = activate_by_contact(app, "899700101308", pin="1111")
    with app.app_context():
        push = pushes.create_push("899700101308", "login", binding_message="11")
        db.session.commit()
        request = pushes.describe(push)
    for pin in ("0000", "0001", "0002"):
        phone.decide(request, "approve", pin=pin)
    page = EcpsLogin(app, clients.web).identify("899700101308")
    assert "verrouillée" in page.get_data(as_text=True)


@pytest.fixture
def realm_scenarios(app):
    """The two scenarios of this test, gone after it: the tests share one database, and a
    professional whose e-CPS denies by itself would fail another module's requests."""
    professionals = (PHYSIO_SCENARIO_APPROVE, DENY_SCENARIO)
    with app.app_context():
        upsert_scenarios(
            [
                {"national_id": PHYSIO_SCENARIO_APPROVE, "action": "approve", "delay": 0},
                {"national_id": DENY_SCENARIO, "action": "deny", "delay": 0},
            ]
        )
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(delete(EcpsScenario).where(EcpsScenario.national_id.in_(professionals)))
        db.session.commit()


@pytest.mark.usefixtures("realm_scenarios")
def test_realm_scenarios_answer_without_a_phone(app, clients):
    approved = EcpsLogin(app, clients.web)
    approved.identify(PHYSIO_SCENARIO_APPROVE)
    assert approved.status()["status"] == "approved"
    assert "code" in approved.callback(approved.complete())
    denied = EcpsLogin(app, clients.web)
    denied.identify(DENY_SCENARIO)
    assert denied.callback(denied.complete())["error"] == "access_denied"


def test_cli_activate_and_approve(app, clients, tmp_path):
    runner = app.test_cli_runner()
    national_id = "899700100987"
    app.extensions["psc_settings"].ecps_devices_dir = str(tmp_path)
    try:
        made = runner.invoke(args=["ecps", "activate", national_id, "--pin", "9876", "--json"])
        assert made.exit_code == 0, made.output
        assert json.loads(made.output)["device_id"]
        login = EcpsLogin(app, clients.web)
        login.identify(national_id)
        listed = json.loads(runner.invoke(args=["ecps", "pending", national_id, "--json"]).output)
        assert len(listed) == 1 and listed[0]["client_name"]
        wrong = runner.invoke(args=["ecps", "approve", national_id, "--pin", "0000"])
        assert wrong.exit_code != 0 and "PIN" in wrong.output
        done = runner.invoke(
            args=["ecps", "approve", national_id, "--pin", "9876", "--wait", "5", "--json"]
        )
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["status"] == "approved"
        assert "code" in login.callback(login.complete())
    finally:
        app.extensions["psc_settings"].ecps_devices_dir = ""


def test_approval_on_one_instance_is_seen_by_another(make_app, clients):
    first, second = make_app(), make_app()
    phone = activate_by_contact(second, MIDWIFE, pin="5555")
    login = EcpsLogin(first, clients.web)
    login.identify(MIDWIFE)
    phone.decide(phone.pending()[0], "approve", pin="5555")
    assert login.status()["status"] == "approved"
    assert "code" in login.callback(login.complete())
