"""CIBA and approval fatigue: past the cap of pending pushes a request is refused with
``access_denied`` (CIBA Core §13), also under heavy concurrency; the phone shows who asks."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live_server import LiveServer
from tests.means.ecps.helpers import activate_by_contact
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

DOCTOR = "899700427885"  # Dr Kit DOC0042788 (nobody needs him without an e-CPS)
PARALLEL = 96
#: The limit per professional in the limited case: a fixed window of an hour, that the
#: requests do not straddle (``_inside_one_window``), so that exactly ten are admitted.
PER_HOUR = 10
MARGIN = 60  # seconds: far more than the 96 requests take on a loaded machine


def test_past_the_cap_ciba_answers_access_denied(app, dpi):
    phone = activate_by_contact(app, DOCTOR)
    for code in ("11", "12", "13"):
        assert dpi.ask(login_hint=DOCTOR, binding_message=code).status_code == 200
    refused = dpi.ask(login_hint=DOCTOR, binding_message="14")
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["error"] == "access_denied"
    assert "3 pending e-CPS requests" in body["error_description"]
    assert sorted(r["binding_message"] for r in phone.pending()) == ["11", "12", "13"]


def test_the_phone_shows_the_service_and_the_binding_code(app, dpi):
    phone = activate_by_contact(app, DOCTOR)
    assert dpi.ask(login_hint=DOCTOR, binding_message="77").status_code == 200
    assert dpi.ask(login_hint=DOCTOR).status_code == 200  # no binding_message: one is made
    second, first = phone.pending()  # newest first
    assert first["client_name"] == second["client_name"] == "DPI de test"
    assert first["binding_message"] == "77"
    assert len(second["binding_message"]) == 2 and second["binding_message"].isdigit()


@pytest.mark.e2e
@pytest.mark.parametrize("per_professional", [f"{PER_HOUR}/h", "0"], ids=["limited", "unlimited"])
def test_parallel_ciba_requests_never_exceed_the_cap(database_url, per_professional):
    env = {
        **live_database_env(database_url),
        "PSC_RATE_LIMIT_CIBA_PER_NATIONAL_ID": per_professional,
    }
    with LiveServer(env=env) as server:
        grant = "urn:openid:params:grant-type:ciba"
        added = run_cli(server, "clients", "add", "dpi-flood", "--grant-type", grant)
        secret = added["client_secret"]
        run_cli(server, "ecps", "activate", DOCTOR, "--pin", "1234")

        def ask(index: int) -> int:
            return requests.post(
                f"{server.issuer}/protocol/openid-connect/ext/ciba/auth",
                data={"scope": "openid", "login_hint": DOCTOR, "binding_message": "42"},
                auth=("dpi-flood", secret),
                timeout=60,
            ).status_code

        _inside_one_window(3600)
        started = time.time()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(ask, range(PARALLEL)))
        assert int(started) // 3600 == int(time.time()) // 3600, "the requests straddled windows"
        # The limit per professional (10 an hour) answers most with 429 before the cap of
        # pending pushes (3) answers the rest of the first ten with 403; without it, the cap
        # alone holds against all of them.
        admitted = PER_HOUR if per_professional != "0" else PARALLEL
        assert statuses.count(200) == 3, statuses
        assert statuses.count(403) == admitted - 3, statuses
        assert statuses.count(429) == PARALLEL - admitted, statuses
        pending = run_cli(server, "ecps", "pending", DOCTOR)
        assert len(pending) == 3


def _inside_one_window(period: int) -> None:
    """Wait, if need be, for a fixed window of ``period`` seconds that has ``MARGIN`` seconds
    left: across a window's end a limit rightly admits its count again."""
    left = period - int(time.time()) % period
    if left < MARGIN:
        time.sleep(left + 1)
