"""Two instances behind Debian's nginx (round robin, no stickiness) on one database: a login,
its tokens and a CIBA flow pass with requests spread across both; one instance killed
(SIGKILL) during a bounded load, the other keeps serving through nginx and completes what the
killed one started: the CIBA polls, and an e-CPS login's waiting page (the page and its status
poll served by the killed instance, the wait, the approval and the login finished through the
survivor)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from bench.login import REDIRECT, exchange_code, login, start_login
from tests.live_server import free_port
from tests.means.ecps.live import live_database_env
from tests.nginx import NGINX, TEMPLATE, Nginx, ProxiedServer, render, site_values, upstream
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

CIBA = "urn:openid:params:grant-type:ciba"
AUTO_APPROVED = "899700100565"  # the demo realm's e-CPS approves his requests after 2 s
WAITING = "899700218896"  # his e-CPS, activated here, approves only when told to
PIN = "1234"
STATUS_URL = re.compile(r'data-status-url="([^"]+)"')
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


def _served_by(server: ProxiedServer, response: requests.Response) -> bool:
    """Whether ``server`` answered: its access line carries the answer's request id."""
    request_id = response.headers.get("X-Request-ID", "")
    return bool(request_id) and f"[{request_id}]" in server.output()


@dataclass
class WaitingLogin:
    """An e-CPS login on its waiting page, as the browser holds it."""

    http: requests.Session
    public_url: str
    page_url: str
    status_url: str
    csrf: str
    verifier: str


def _wait_on(server: ProxiedServer, public_url: str, http: requests.Session) -> WaitingLogin:
    """Start an e-CPS login through nginx and reload its waiting page and its status until
    ``server`` has answered each (round robin: a few tries)."""
    login_page, verifier = start_login(public_url, "demo-web", http)
    means = f"{public_url}{login_page}/ecps"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get(means, timeout=30).text)[1]
    form = {"csrf_token": csrf, "step": "identify", "national_id": WAITING}
    sent = http.post(means, data=form, allow_redirects=False, timeout=30)
    assert sent.status_code == 302, sent.text
    page_url = f"{public_url}{sent.headers['Location']}"
    status_url = ""
    for _ in range(6):
        page = http.get(page_url, timeout=30)
        assert page.status_code == 200 and "Validez la connexion" in page.text, page.text
        # The URL the page's script polls, as the browser reads it.
        status_url = f"{public_url}{STATUS_URL.search(page.text)[1]}"
        if _served_by(server, page):
            break
    else:
        raise AssertionError("the waiting page was never served by the instance to kill")
    for _ in range(6):
        status = http.get(status_url, headers={"Accept": "application/json"}, timeout=30)
        assert status.json()["status"] == "pending", status.text
        if _served_by(server, status):
            break
    else:
        raise AssertionError("the status was never polled on the instance to kill")
    return WaitingLogin(http, public_url, page_url, status_url, csrf, verifier)


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
    # A professional's browser on the e-CPS waiting page that the instance to kill served.
    run_cli(second, "ecps", "activate", WAITING, "--pin", PIN)
    waiting = _wait_on(first, public_url, _session(ca_bundle))

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

    _finish_waiting(second, waiting, issuer, secret)


def _finish_waiting(survivor: ProxiedServer, waiting: WaitingLogin, issuer: str, secret: str):
    """The phone approves after the kill; the page's status poll sees it through nginx (the
    survivor answers), the page posts its form and the login ends with a code."""
    approved = run_cli(survivor, "ecps", "approve", WAITING, "--pin", PIN, "--wait", "10")
    assert approved["status"] == "approved", approved
    http = waiting.http
    deadline = time.monotonic() + 20
    while True:
        status = http.get(waiting.status_url, headers={"Accept": "application/json"}, timeout=30)
        assert status.status_code == 200 and _served_by(survivor, status), status.text
        if status.json()["status"] != "pending":
            break
        assert time.monotonic() < deadline, "the approval never reached the waiting page"
        time.sleep(1)  # the page's own pace
    assert status.json()["status"] == "approved", status.text
    form = {"csrf_token": waiting.csrf, "step": "complete"}
    done = http.post(waiting.page_url, data=form, allow_redirects=False, timeout=30)
    assert done.status_code == 302 and _served_by(survivor, done), done.text
    back = http.get(
        f"{waiting.public_url}{done.headers['Location']}", allow_redirects=False, timeout=30
    )
    assert back.status_code == 302 and back.headers["Location"].startswith(REDIRECT), back.text
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    tokens = exchange_code(http, issuer, ("demo-web", secret), code, waiting.verifier)
    assert tokens.status_code == 200, tokens.text
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert (claims["SubjectNameID"], claims["authMode"]) == (WAITING, "MOBILE")
