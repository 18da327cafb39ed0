"""Device long polls are bounded per device and per process, with a fast 429, so that they
never hold every thread the protocol endpoints need."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from psc_idp.means.ecps.phone.long_polls import bound_by_threads, long_polls
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.live_server import LiveServer
from tests.means.ecps.helpers import activate_by_contact
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

GP = "899700218896"


def test_a_device_holds_at_most_two_long_polls(app):
    phone = activate_by_contact(app, GP)
    with app.app_context(), ExitStack() as held:
        for _ in range(2):
            held.enter_context(long_polls().slot(phone.device.device_id))
        refused = phone.call("GET", "/requests?wait=25")
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "too_many_requests"
        assert refused.headers["Retry-After"] == "5"
        # A plain read does not wait, so it is not bounded.
        assert phone.call("GET", "/requests").status_code == 200


def test_long_polls_are_bounded_per_process(app):
    phone = activate_by_contact(app, GP)
    with app.app_context(), ExitStack() as held:
        for other in range(4):
            held.enter_context(long_polls().slot(f"another-device-{other}"))
        refused = phone.call("GET", "/requests?wait=25")
        assert refused.status_code == 429
        assert "occupé" in refused.get_json()["error_description"]
    assert phone.call("GET", "/requests?wait=1").status_code == 200  # slots released


@pytest.mark.e2e
def test_token_requests_answer_while_devices_long_poll(database_url):
    """One worker (8 threads) and 12 long polls of 10 s: before the bound, the token request
    queued behind them; with it, 4 are held, 8 get a 429 at once, the token request answers
    while the 4 are still held."""
    with LiveServer(env=live_database_env(database_url), workers=1) as server:

        def activated(_: int) -> VirtualDevice:
            made = run_cli(server, "ecps", "activate", GP, "--pin", "1234")
            return VirtualDevice.load(Path(made["key_file"]))

        with ThreadPoolExecutor(max_workers=3) as activations:  # three CLI processes at a time
            devices = list(activations.map(activated, range(6)))
        # The 8 past the bound come back at once (without the bound none would, and the
        # token request would starve behind the 12).
        token, statuses = _long_polls_beside_a_token(server, devices * 2, refusals=8, patience=3)
        assert token.status_code == 200, token.text
        assert token.json()["access_token"]
        assert statuses == [200] * 4 + [429] * 8


def test_the_bound_is_at_most_half_the_threads():
    assert bound_by_threads(4, 8) == 4  # the defaults: unchanged
    assert bound_by_threads(4, 16) == 4
    assert bound_by_threads(4, 2) == 1
    assert bound_by_threads(4, 3) == 1
    assert bound_by_threads(4, 1) == 0


@pytest.mark.e2e
def test_two_threads_keep_one_for_the_protocol(database_url):
    """``psc-idp serve --threads 2``: one long poll is held, the others get the 429 at once,
    and a token request answers while it is held (with the configured 4, two long polls took
    both threads and the token request waited behind them)."""
    with LiveServer(env=live_database_env(database_url), workers=1, threads=2) as server:
        assert "attentes e-CPS : 1 au plus par processus" in server.output()
        made = run_cli(server, "ecps", "activate", GP, "--pin", "1234")
        device = VirtualDevice.load(Path(made["key_file"]))
        token, statuses = _long_polls_beside_a_token(server, [device] * 3, refusals=2, patience=5)
        assert token.status_code == 200, token.text
        assert statuses == [200, 429, 429]


def _long_polls_beside_a_token(
    server: LiveServer, devices: list[VirtualDevice], refusals: int, patience: float
) -> tuple[requests.Response, list[int]]:
    """A 10 s long poll from each of ``devices`` at once, then, once ``refusals`` of them came
    back 429 (at most ``patience`` seconds for each), a token request: its answer, and the
    long polls' statuses, sorted."""
    url = server.url("/ecps/api/v1/requests")
    refused = threading.Semaphore(0)

    def long_poll(device: VirtualDevice) -> int:
        token = device.call_token("GET", url)
        answer = requests.get(
            f"{url}?wait=10", headers={"Authorization": f"ECPS-Device {token}"}, timeout=60
        )
        if answer.status_code == 429:
            refused.release()
        return answer.status_code

    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        polls = [pool.submit(long_poll, device) for device in devices]
        for _ in range(refusals):
            if not refused.acquire(timeout=patience):
                break
        token = requests.post(
            f"{server.issuer}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials"},
            auth=("demo-web", server.demo_secret("demo-web")),
            timeout=5,  # well before the 10 s long polls end and free their threads
        )
        statuses = sorted(poll.result() for poll in polls)
    return token, statuses
