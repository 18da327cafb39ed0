"""Counters hold under real parallelism (a real server with its threads, SQLite or PostgreSQL):
every wrong secret is counted, and a flood of CIBA requests for one professional sends no more
pushes than the cap."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live_server import LiveServer
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

PARALLEL = 50
GRANT = "urn:openid:params:grant-type:ciba"


@pytest.fixture(scope="module")
def server(database_url: str):
    with LiveServer(env=live_database_env(database_url)) as live:
        yield live


@pytest.mark.e2e
def test_parallel_wrong_secrets_are_all_counted(server):
    secret = run_cli(server, "clients", "add", "guessed", "--grant-type", "client_credentials")[
        "client_secret"
    ]

    def guess(index: int) -> int:
        return requests.post(
            f"{server.issuer}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials"},
            auth=("guessed", f"wrong-{index}"),
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(guess, range(PARALLEL)))
    assert set(statuses) == {401}
    (row,) = [r for r in run_cli(server, "unlock", "--list") if r["subject"] == "guessed"]
    assert row["failures"] == PARALLEL
    # 50 failures, 10 lockouts past the 3 allowed: locked for good, the right secret refused.
    assert row["permanent"] is True
    right = requests.post(
        f"{server.issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("guessed", secret),
        timeout=30,
    )
    assert right.status_code == 401
    assert run_cli(server, "unlock", "--client", "guessed") == {"unlocked": 1}
    again = requests.post(
        f"{server.issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("guessed", secret),
        timeout=30,
    )
    assert again.status_code == 200, again.text
