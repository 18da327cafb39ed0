"""Single use under concurrency: of many simultaneous exchanges of one code or one refresh
token, exactly one succeeds (real server, several gunicorn workers and threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench.login import login, obtain_code
from tests.live_server import LiveServer

ATTEMPTS = 8


@pytest.fixture(scope="module")
def server(database_url: str):
    env = {"PSC_DATABASE_URL": database_url} if database_url.startswith("postgresql") else {}
    with LiveServer(env=env, workers=2) as live:
        yield live


def _all_at_once(call) -> list[int]:
    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        return sorted(f.result() for f in [pool.submit(call) for _ in range(ATTEMPTS)])


@pytest.mark.e2e
def test_a_code_is_exchanged_once(server):
    secret = server.demo_secret("demo-web")
    code, verifier = obtain_code(server.base_url, "demo-web")

    def exchange() -> int:
        return requests.post(
            f"{server.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://localhost:3000/callback",
                "code_verifier": verifier,
            },
            auth=("demo-web", secret),
            timeout=30,
        ).status_code

    assert _all_at_once(exchange) == [200] + [400] * (ATTEMPTS - 1)


@pytest.mark.e2e
def test_a_refresh_token_is_used_once(server):
    secret = server.demo_secret("demo-web")
    tokens = login(server.base_url, server.issuer, "demo-web", secret)

    def refresh() -> int:
        return requests.post(
            f"{server.issuer}/protocol/openid-connect/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=("demo-web", secret),
            timeout=30,
        ).status_code

    assert _all_at_once(refresh) == [200] + [400] * (ATTEMPTS - 1)
