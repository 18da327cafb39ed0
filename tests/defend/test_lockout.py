"""Brute-force lockouts: temporary with a growing wait, permanent after repeated lockouts, the
quick-login check, the answer of a wrong credential while locked, and ``psc-idp unlock``."""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from psc_idp import lockout
from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsActivation, EcpsDevice, EcpsPush, EcpsScenario
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.timeutil import now
from tests.defend.conftest import defaults, new_client
from tests.helpers import TOKEN, Browser, basic
from tests.means.ecps.helpers import activate_by_contact, completion


@pytest.fixture(scope="module")
def patient(make_app):
    """Default lockouts without the quick-login check, to see the growth alone."""
    return make_app(**defaults(), lockout_quick_login_check_ms=0)


def _state(app, kind, subject):
    with app.app_context():
        return lockout.state(kind, subject)


def _fail(app, subject, times, kind=lockout.CLIENT):
    with app.app_context():
        for _ in range(times):
            found = lockout.fail(kind, subject, "test")
        return found


def test_the_wait_grows_with_each_lockout_then_the_lockout_is_permanent(patient, clock):
    subject = secrets.token_hex(4)
    waits = []
    for _ in range(3):
        assert not _fail(patient, subject, 4).locked(clock.now())
        locked = _fail(patient, subject, 1)
        assert locked.locked(clock.now()) and not locked.permanent
        waits.append(locked.retry_after(clock.now()))
        clock.advance(waits[-1] + 1)
        assert not _state(patient, lockout.CLIENT, subject).locked(clock.now())
    assert [round(w, -1) for w in waits] == [60, 120, 180]
    _fail(patient, subject, 4)
    final = _fail(patient, subject, 1)
    assert final.permanent and final.retry_after() is None
    clock.advance(24 * 3600)
    assert _state(patient, lockout.CLIENT, subject).locked(clock.now())


def test_the_wait_never_exceeds_the_maximum(make_app, clock):
    app = make_app(
        **defaults(),
        lockout_quick_login_check_ms=0,
        lockout_permanent_after=0,
        lockout_wait_increment=400,
    )
    subject = secrets.token_hex(4)
    for _ in range(3):
        locked = _fail(app, subject, 5)
        assert locked.retry_after(clock.now()) <= 900
        clock.advance(901)
    assert not locked.permanent


def test_failures_start_again_after_max_delta(patient, clock):
    subject = secrets.token_hex(4)
    _fail(patient, subject, 4)
    clock.advance(12 * 3600 + 1)
    assert _fail(patient, subject, 1).failures == 1


def test_two_quick_failures_lock_for_a_minute(defended, clock):
    subject = secrets.token_hex(4)
    assert not _fail(defended, subject, 1).locked(clock.now())
    quick = _fail(defended, subject, 1)
    assert quick.locked(clock.now()) and 50 <= quick.retry_after(clock.now()) <= 60


def test_a_locked_client_gets_the_answer_of_a_wrong_secret(defended, clock):
    client_id, secret = new_client(defended)
    http = defended.test_client()

    def token(presented):
        return http.post(
            TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, presented)
        )

    wrong = token("wrong")
    for _ in range(4):
        token("wrong")
    refused = token(secret)
    assert (refused.status_code, refused.get_json()) == (wrong.status_code, wrong.get_json())
    assert refused.status_code == 401
    assert _state(defended, lockout.CLIENT, client_id).failures == 6  # the refusal counted
    clock.advance(61)
    assert token(secret).status_code == 200
    assert _state(defended, lockout.CLIENT, client_id) is None  # a success clears the count


def test_a_good_secret_clears_earlier_failures(defended, clock):
    client_id, secret = new_client(defended)
    http = defended.test_client()
    headers = basic(client_id, "wrong")
    assert (
        http.post(TOKEN, data={"grant_type": "client_credentials"}, headers=headers).status_code
        == 401
    )
    clock.advance(2)
    good = http.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert good.status_code == 200
    assert _state(defended, lockout.CLIENT, client_id) is None


def test_a_locked_professional_sees_a_french_page_on_login(defended, clients):
    national_id = "899700100318"
    _fail(defended, national_id, 5, kind=lockout.PROFESSIONAL)
    try:
        browser = Browser(defended)
        started = browser.authorize(clients.web.client_id)
        page = browser.pick_identity(started.headers["Location"], national_id)
        text = page.get_data(as_text=True)
        assert page.status_code == 400
        assert "temporairement verrouillé" in text
    finally:
        with defended.app_context():
            lockout.unlock(lockout.PROFESSIONAL, national_id)
            db.session.commit()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["unlock", *args])


def test_unlock_lists_and_lifts_lockouts(defended):
    client_id, professional = f"cli-{secrets.token_hex(4)}", "899700100490"
    _fail(defended, client_id, 5)
    _fail(defended, professional, 5, kind=lockout.PROFESSIONAL)
    listed = json.loads(_cli(defended, "--list", "--json").output)
    subjects = {(row["kind"], row["subject"]) for row in listed}
    assert {("client", client_id), ("national_id", professional)} <= subjects
    row = next(row for row in listed if row["subject"] == client_id)
    assert row["failures"] == 5 and row["locked_until"] and row["last_source"] == "test"

    assert json.loads(_cli(defended, "--client", client_id, "--json").output) == {"unlocked": 1}
    assert json.loads(_cli(defended, "--national-id", professional, "--json").output) == {
        "unlocked": 1
    }
    assert _state(defended, lockout.CLIENT, client_id) is None
    _fail(defended, client_id, 5)
    assert json.loads(_cli(defended, "--all", "--json").output)["unlocked"] >= 1
    assert _state(defended, lockout.CLIENT, client_id) is None


@pytest.mark.parametrize("args", [[], ["--all", "--list"], ["--client", "a", "--all"]])
def test_unlock_wants_exactly_one_choice(defended, args):
    result = _cli(defended, *args)
    assert result.exit_code != 0 and "exactement une option" in result.output


def test_lockouts_off_count_nothing(make_app):
    app = make_app(lockout_enabled=False)
    subject = secrets.token_hex(4)
    _fail(app, subject, 10)
    assert _state(app, lockout.CLIENT, subject) is None


def test_a_locked_professional_s_right_pin_is_answered_as_a_wrong_one(defended):
    national_id = "899700101308"  # M. Karim HADDAD
    with defended.app_context():  # a phone answers here, not a realm scenario another test set
        kept = db.session.get(EcpsScenario, national_id)
        if kept is not None:
            db.session.expunge(kept)
        db.session.execute(delete(EcpsScenario).where(EcpsScenario.national_id == national_id))
        db.session.commit()
    phone = activate_by_contact(defended, national_id, pin="2468")
    client_id, secret = new_client(defended)
    asked = defended.test_client().post(
        f"{TOKEN.rsplit('/', 1)[0]}/ext/ciba/auth",
        data={"scope": "openid", "login_hint": national_id, "binding_message": "L7"},
        headers=basic(client_id, secret),
    )
    assert asked.status_code == 200, asked.get_json()
    # This request (another test may have left one of its own for the same professional).
    (request,) = [r for r in phone.pending() if r["binding_message"] == "L7"]
    _fail(defended, national_id, 5, kind=lockout.PROFESSIONAL)
    try:
        answer = phone.decide(request, "approve", "2468")
        assert answer.status_code == 403 and answer.get_json()["error"] == "invalid_pin"
        assert _state(defended, lockout.PROFESSIONAL, national_id).failures == 6
    finally:
        with defended.app_context():
            lockout.unlock(lockout.PROFESSIONAL, national_id)
            db.session.execute(
                update(EcpsPush).where(EcpsPush.client_id == client_id).values(status="cancelled")
            )
            db.session.execute(
                update(EcpsDevice)
                .where(EcpsDevice.id == phone.device.device_id)
                .values(status="revoked")
            )
            # The CIBA tests look their requests up by binding message, in the same database.
            db.session.execute(delete(CibaRequest).where(CibaRequest.client_id == client_id))
            if kept is not None:
                db.session.merge(kept)
            db.session.commit()


def test_typing_a_locked_national_id_for_the_ecps_shows_the_french_page(defended, clients):
    national_id = "899700100722"
    _fail(defended, national_id, 5, kind=lockout.PROFESSIONAL)
    try:
        browser = Browser(defended)
        means = f"{browser.authorize(clients.web.client_id).headers['Location']}/ecps"
        html = browser.http.get(means).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        typed = browser.http.post(
            means, data={"csrf_token": csrf, "step": "identify", "national_id": national_id}
        )
        assert "temporairement verrouillé" in typed.get_data(as_text=True)
    finally:
        with defended.app_context():
            lockout.unlock(lockout.PROFESSIONAL, national_id)
            db.session.commit()


def test_wrong_activation_codes_count_for_the_professional(defended):
    national_id = "899700100987"
    with defended.app_context():
        lockout.unlock(lockout.PROFESSIONAL, national_id)
        db.session.commit()
    http = defended.test_client()
    started = http.post("/ecps/api/v1/activations", json={"national_id": national_id})
    activation_id = started.get_json()["activation_id"]
    wrong = http.post(
        f"/ecps/api/v1/activations/{activation_id}/complete",
        json=completion(activation_id, "000000", "000000"),
    )
    assert wrong.get_json()["error"] == "invalid_code"
    found = _state(defended, lockout.PROFESSIONAL, national_id)
    assert found is not None and found.failures == 1
    with defended.app_context():
        lockout.unlock(lockout.PROFESSIONAL, national_id)
        # Other tests start this professional's activations afresh.
        db.session.execute(
            update(EcpsActivation)
            .where(EcpsActivation.id == activation_id)
            .values(expires_at=now() - timedelta(seconds=1))
        )
        db.session.commit()
