"""Two instances behind Debian's nginx (round robin, no stickiness) on one database: a login,
its tokens and a CIBA flow pass with requests spread across both; one instance killed
(SIGKILL) during a bounded load, the other keeps serving through nginx and completes the CIBA
poll the killed one started."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench.login import login
from tests.live_server import free_port
from tests.means.ecps.live import live_database_env
from tests.nginx import NGINX, TEMPLATE, Nginx, ProxiedServer, render, site_values, upstream
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

CIBA = "urn:openid:params:grant-type:ciba"
AUTO_APPROVED = "899700100565"  # the demo realm's e-CPS approves his requests after 2 s
LOAD = 60  # requests during the kill, bounded
LOAD_SECONDS = 60


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[ProxiedServer, ProxiedServer, str, str]]:
    if not os.access(NGINX, os.X_OK):
        pytest.skip(f"Debian's nginx is not installed ({NGINX})")
    port = free_port()
    public_url = f"https://localhost:{port}"
    env = {
        **live_database_env(database_url),
        "PSC_BASE_URL": public_url,
        "PSC_TRUSTED_PROXIES": "127.0.0.1",
        "PSC_TLS_PORT": "0",
    }
    first = ProxiedServer(public_url, env=env, workers=1).start()
    second = ProxiedServer(
        public_url, env=env, workers=1, keys_dir=first.keys_dir, data_dir=first.data_dir
    )
    nginx: Nginx | None = None
    try:
        second.start()
        values = site_values(first, port)
        values["UPSTREAM"] = upstream(first, second)
        nginx = Nginx(render(TEMPLATE.read_text(), values), port).start()
        yield first, second, public_url, str(first.keys_dir / "pki" / "ca-bundle.pem")
    finally:
        if nginx is not None:
            nginx.stop()
        second.stop()
        first.stop()


def _session(ca_bundle: str) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.verify = ca_bundle
    return http


def _token_lines(server: ProxiedServer) -> int:
    return server.output().count("protocol.token")


def test_two_instances_share_the_work_and_survive_one_killed(pair):
    first, second, public_url, ca_bundle = pair
    issuer = first.issuer
    secret = first.demo_secret("demo-web")
    ciba_secret = run_cli(first, "clients", "add", "dpi-pair", "--grant-type", CIBA)[
        "client_secret"
    ]
    http = _session(ca_bundle)
    # A login and its tokens, then a refresh and client credentials: spread by nginx.
    tokens = login(public_url, issuer, "demo-web", secret, http=http)
    for _ in range(6):
        refreshed = http.post(
            f"{issuer}/protocol/openid-connect/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=("demo-web", secret),
            timeout=30,
        )
        assert refreshed.status_code == 200, refreshed.text
        tokens = refreshed.json()
    assert _token_lines(first) > 0 and _token_lines(second) > 0, "nginx did not spread"

    def ask_ciba() -> str:
        asked = http.post(
            f"{issuer}/protocol/openid-connect/ext/ciba/auth",
            data={"scope": "openid", "login_hint": AUTO_APPROVED, "binding_message": "42"},
            auth=("dpi-pair", ciba_secret),
            timeout=30,
        )
        assert asked.status_code == 200, asked.text
        return asked.json()["auth_req_id"]

    # Requests started on both instances (round robin), polled after one is killed.
    auth_req_ids = [ask_ciba() for _ in range(2)]

    def token() -> int:
        try:
            return http.post(
                f"{issuer}/protocol/openid-connect/token",
                data={"grant_type": "client_credentials"},
                auth=("demo-web", secret),
                timeout=30,
            ).status_code
        except requests.RequestException:
            return 0

    deadline = time.monotonic() + LOAD_SECONDS
    with ThreadPoolExecutor(max_workers=4) as pool:
        before = [pool.submit(token) for _ in range(LOAD // 2)]
        time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)  # the whole instance: main process and worker
        after_kill = [f.result() for f in before]
        settled = [pool.submit(token) for _ in range(LOAD // 2)]
        statuses = [f.result() for f in settled]
    assert time.monotonic() < deadline
    # Only the requests in flight on the killed instance may fail (4 threads)...
    assert after_kill.count(200) >= len(after_kill) - 4, after_kill
    # ...and those nginx had written on a kept-alive connection to it: a POST already sent is
    # not sent again (nginx's rule for non-idempotent requests), so it is a 502, never a 500
    # and never a wrong answer; once those connections are gone, every request succeeds.
    assert set(statuses) <= {200, 502}, statuses
    assert statuses[-10:] == [200] * 10, statuses

    time.sleep(2.5)  # the scenario approves after 2 s
    for auth_req_id in auth_req_ids:
        polled = http.post(
            f"{issuer}/protocol/openid-connect/token",
            data={"grant_type": CIBA, "auth_req_id": auth_req_id},
            auth=("dpi-pair", ciba_secret),
            timeout=30,
        )
        assert polled.status_code == 200, polled.text
        assert polled.json()["id_token"]
