"""A push created through one instance wakes a phone's long poll held on another: at once
when a message carries the wake-up (PostgreSQL LISTEN/NOTIFY, Redis pub/sub), at the next
database poll on SQLite without Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.live_server import LiveServer
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

GP = "899700218896"
REDIS_URL = "redis://127.0.0.1:6379/6"
LONG_POLL = 25
CIBA = "urn:openid:params:grant-type:ciba"


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.e2e
@pytest.mark.parametrize("carrier", ["database", "redis"])
def test_a_push_created_on_one_instance_wakes_a_long_poll_held_on_another(
    database_url: str, carrier: str
) -> None:
    env = live_database_env(database_url)
    if carrier == "redis":
        if not _redis_reachable():
            pytest.skip("no Redis on 127.0.0.1:6379")
        env["PSC_REDIS_URL"] = REDIS_URL
    carried = carrier == "redis" or "PSC_DATABASE_URL" in env
    # With a carrier, the safety-net poll is longer than the wait: only a message can answer
    # in time. SQLite without Redis has only the poll.
    env["PSC_WAKE_POLL_INTERVAL"] = "60" if carried else "0.5"
    with LiveServer(env=env, workers=1) as first:
        second = LiveServer(
            env=env, workers=1, keys_dir=first.keys_dir, data_dir=first.data_dir
        ).start()
        try:
            secret = run_cli(first, "clients", "add", "dpi-wake", "--grant-type", CIBA)[
                "client_secret"
            ]
            key_file = run_cli(first, "ecps", "activate", GP, "--pin", "1234")["key_file"]
            device = VirtualDevice.load(Path(key_file))
            url = second.url("/ecps/api/v1/requests")

            def long_poll() -> tuple[float, dict]:
                token = device.call_token("GET", url)
                answer = requests.get(
                    f"{url}?wait={LONG_POLL}",
                    headers={"Authorization": f"ECPS-Device {token}"},
                    timeout=LONG_POLL + 15,
                )
                assert answer.status_code == 200, answer.text
                return time.monotonic(), answer.json()

            with ThreadPoolExecutor(max_workers=1) as pool:
                held = pool.submit(long_poll)
                time.sleep(1.5)
                assert not held.done(), "the long poll answered before any push"
                sent = time.monotonic()
                asked = requests.post(
                    f"{first.issuer}/protocol/openid-connect/ext/ciba/auth",
                    data={"scope": "openid", "login_hint": GP, "binding_message": "42"},
                    auth=("dpi-wake", secret),
                    timeout=30,
                )
                assert asked.status_code == 200, asked.text
                answered, body = held.result(timeout=LONG_POLL + 20)
        finally:
            second.stop()
    assert [r["binding_message"] for r in body["requests"]] == ["42"]
    # Well before the wait ends (25 s) and, with a carrier, the next poll (60 s).
    assert answered - sent < 5, answered - sent
