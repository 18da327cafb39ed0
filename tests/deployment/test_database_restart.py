"""PostgreSQL restarted for real under a bounded load of whole logins, token requests and CIBA
polls. The server is a private cluster of this test (``pg_cluster.py``): stopped (fast
shutdown: every session ended), two seconds down, started again, while psc-idp keeps running.
Errors only while it is down (503, never a 500, never a hang), full service after without
restarting psc-idp; a code, a refresh token and an approved CIBA request issued before the
restart, and every code and refresh token issued during the load, are redeemed exactly once —
none usable twice, none lost."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bench.login import REDIRECT, login, obtain_code
from tests.deployment.pg_cluster import Cluster, unavailable_reason
from tests.live_server import LiveServer
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

CIBA = "urn:openid:params:grant-type:ciba"
AUTO_APPROVED = "899700100565"  # the demo realm's e-CPS approves his requests after 2 s
UNANSWERED = "899700218896"  # his e-CPS, activated here, never answers: authorization_pending
DOWN_SECONDS = 2.0
RECOVERY = 3.0  # seconds after the restart in which a request may still meet a dead connection
AFTER = 4.0  # seconds of load after that: full service
MAX_REQUESTS = 400  # per load thread
MAX_SECONDS = 30.0


@dataclass
class Load:
    """What the load saw: every answer (time, kind, status, whether it was the expected one),
    the tokens of the logins that completed, the codes whose exchange met the outage."""

    seen: list[tuple[float, str, int, bool]] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    unexchanged: list[tuple[str, str]] = field(default_factory=list)
    logins_done: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def note(self, kind: str, status: int, expected: int) -> bool:
        self.seen.append((time.monotonic(), kind, status, status == expected))
        return status == expected

    def running(self, started: float, index: int) -> bool:
        return (
            not self.stop.is_set()
            and index < MAX_REQUESTS
            and time.monotonic() - started < MAX_SECONDS
        )


def _status(call, *args, **kwargs) -> tuple[int, requests.Response | None]:
    try:
        response = call(*args, allow_redirects=False, timeout=15, **kwargs)
    except requests.RequestException:
        return 0, None
    return response.status_code, response


def _one_login(server: LiveServer, secret: str, load: Load) -> None:
    """A browser login through the test identity picker then the code exchange, each step
    noted; a step that fails ends this login (a browser would start again)."""
    http = requests.Session()
    code_verifier, challenge = _pkce()
    status, start = _status(
        http.get,
        f"{server.base_url}/wallet/auth",
        params={
            "response_type": "code",
            "client_id": "demo-web",
            "redirect_uri": REDIRECT,
            "scope": "openid scope_all",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    if not load.note("login", status, 302):
        return
    picker = f"{server.base_url}{start.headers['Location']}/dev"
    status, page = _status(http.get, picker)
    if not load.note("login", status, 200):
        return
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "national_id": UNANSWERED, "auth_mode": "CARD"}
    status, done = _status(http.post, picker, data=form)
    if not load.note("login", status, 302):
        return
    status, back = _status(http.get, f"{server.base_url}{done.headers['Location']}")
    if not load.note("login", status, 302):
        return
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    status, tokens = _status(
        http.post,
        f"{server.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": code_verifier,
        },
        auth=("demo-web", secret),
    )
    if load.note("login", status, 200):
        load.refresh_tokens.append(tokens.json()["refresh_token"])
        load.logins_done.append(time.monotonic())
    elif status == 503:
        load.unexchanged.append((code, code_verifier))  # must still be good after


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _logins(server: LiveServer, secret: str, load: Load) -> None:
    started = time.monotonic()
    index = 0
    while load.running(started, index):
        _one_login(server, secret, load)
        index += 1
        time.sleep(0.05)


def _posts(url: str, kind: str, form: dict, auth: tuple[str, str], expected: int, load: Load):
    started = time.monotonic()
    index = 0
    while load.running(started, index):
        status, _ = _status(requests.post, url, data=form, auth=auth)
        load.note(kind, status, expected)
        index += 1
        time.sleep(0.02)


def _errors_logged(server: LiveServer) -> str:
    """The server's lines from each error it logged on, its traceback included."""
    lines = server.output().splitlines()
    marks = ("unexpected error", "Traceback", "Exception on", "ERROR")
    starts = [i for i, line in enumerate(lines) if any(mark in line for mark in marks)]
    return "\n".join("\n".join(lines[i : i + 40]) for i in starts[:3])


def _restart(cluster: Cluster) -> tuple[float, float]:
    down = time.monotonic()
    cluster.stop()
    time.sleep(DOWN_SECONDS)
    cluster.start()
    return down, time.monotonic()


@pytest.fixture
def cluster():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"a private PostgreSQL server cannot be made here: {reason}")
    with Cluster() as made:
        yield made


def test_service_comes_back_after_postgresql_restarts(cluster):
    env = {
        "PSC_DATABASE_URL": cluster.create_database("psc"),
        # The load logs in from one address, faster than a person: the limits are not tested.
        "PSC_RATE_LIMIT_LOGIN_PER_IP": "0",
        "PSC_RATE_LIMIT_LOGIN_PER_NATIONAL_ID": "0",
    }
    with LiveServer(env=env, workers=2) as server:
        token_url = f"{server.issuer}/protocol/openid-connect/token"
        secret = server.demo_secret("demo-web")
        ciba_secret = run_cli(server, "clients", "add", "dpi-restart", "--grant-type", CIBA)[
            "client_secret"
        ]
        run_cli(server, "ecps", "activate", UNANSWERED, "--pin", "1234")

        def ask(hint: str) -> str:
            asked = requests.post(
                f"{server.issuer}/protocol/openid-connect/ext/ciba/auth",
                data={"scope": "openid", "login_hint": hint, "binding_message": "42"},
                auth=("dpi-restart", ciba_secret),
                timeout=30,
            )
            assert asked.status_code == 200, asked.text
            return asked.json()["auth_req_id"]

        approved, pending = ask(AUTO_APPROVED), ask(UNANSWERED)
        code, verifier = obtain_code(server.base_url, "demo-web")
        refresh_token = login(server.base_url, server.issuer, "demo-web", secret)["refresh_token"]
        main_process = server.pid

        load = Load()
        threads = [
            threading.Thread(target=_logins, args=(server, secret, load)),
            threading.Thread(
                target=_posts,
                args=(token_url, "token", {"grant_type": "client_credentials"}),
                kwargs={"auth": ("demo-web", secret), "expected": 200, "load": load},
            ),
            threading.Thread(
                target=_posts,
                args=(token_url, "ciba", {"grant_type": CIBA, "auth_req_id": pending}),
                # A pending request: authorization_pending (or slow_down), 400 either way.
                kwargs={"auth": ("dpi-restart", ciba_secret), "expected": 400, "load": load},
            ),
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            down, up = _restart(cluster)
            time.sleep(RECOVERY + AFTER)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=MAX_SECONDS + 20)
        assert server.pid == main_process  # the same psc-idp throughout

        wrong = [(t, kind, s) for t, kind, s, ok in load.seen if not ok]
        assert wrong, "no request met the restart"
        assert {kind for _, kind, _ in wrong} >= {"token", "ciba"}, wrong
        # Never a 500, never a hang; the server's own account of a 500 comes with the failure
        # (printed as well: pytest shortens a long assertion message).
        not_503 = [answer for answer in wrong if answer[2] != 503]
        if not_503:
            print(_errors_logged(server), file=sys.stderr)
        assert not_503 == [], (not_503, _errors_logged(server))
        assert all(down - 1 <= t <= up + RECOVERY for t, _, _ in wrong), (down, up, wrong)
        for kind in ("login", "token", "ciba"):
            after = [ok for t, k, _, ok in load.seen if k == kind and t > up + RECOVERY]
            assert len(after) >= 5 and all(after), (kind, after)
        assert [t for t in load.logins_done if t > up + RECOVERY], "no whole login after"
        assert [t for t in load.logins_done if t < down], "no whole login before"

        def redeem(form: dict[str, str], client: str, password: str) -> int:
            return requests.post(
                token_url, data=form, auth=(client, password), timeout=15
            ).status_code

        def code_form(one_code: str, one_verifier: str) -> dict[str, str]:
            return {
                "grant_type": "authorization_code",
                "code": one_code,
                "redirect_uri": REDIRECT,
                "code_verifier": one_verifier,
            }

        once = [
            (code_form(code, verifier), "demo-web", secret),
            ({"grant_type": "refresh_token", "refresh_token": refresh_token}, "demo-web", secret),
            ({"grant_type": CIBA, "auth_req_id": approved}, "dpi-restart", ciba_secret),
            *[(code_form(c, v), "demo-web", secret) for c, v in load.unexchanged],
            *[
                ({"grant_type": "refresh_token", "refresh_token": t}, "demo-web", secret)
                for t in load.refresh_tokens
            ],
        ]
        statuses = [(redeem(*r), redeem(*r), r[0]["grant_type"]) for r in once]
        assert [s for s in statuses if s[:2] != (200, 400)] == []
