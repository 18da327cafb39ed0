"""PostgreSQL "restarted" under a bounded load of token requests and CIBA polls: for this
server only (other databases of the cluster are left alone), connections to its database are
refused and the live ones killed for two seconds. Errors only while it is down (503, never a
500), full service after without restarting psc-idp; a code, a refresh token and an approved
CIBA request issued before the outage are still redeemed exactly once."""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.login import login, obtain_code
from tests.live_server import LiveServer
from tests.means.ecps.live import live_database_env
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

CIBA = "urn:openid:params:grant-type:ciba"
AUTO_APPROVED = "899700100565"  # the demo realm's e-CPS approves his requests after 2 s
UNANSWERED = "899700218896"  # his e-CPS, activated here, never answers: authorization_pending
DOWN_SECONDS = 2.0
RECOVERY = 3.0  # seconds after the outage in which a request may still meet a dead connection
MAX_REQUESTS = 400
MAX_SECONDS = 30.0


def _outage(url: str, seconds: float) -> tuple[float, float]:
    """Refuse connections to the database and kill its backends for ``seconds``."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            start = time.monotonic()
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            while time.monotonic() - start < seconds:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                time.sleep(0.2)
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            return start, time.monotonic()
    finally:
        admin.dispose()


def test_service_comes_back_after_the_database_restarts(database_url):
    if not os.environ.get("PSC_TEST_BASE_DATABASE_URL"):
        pytest.skip("PostgreSQL only")
    env = live_database_env(database_url)
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

        seen: list[tuple[float, str, int]] = []
        stop = threading.Event()

        def load() -> None:
            started = time.monotonic()
            for index in range(MAX_REQUESTS):
                if stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                    return
                if index % 2:
                    kind, form, auth = "token", {"grant_type": "client_credentials"}, "demo-web"
                else:
                    kind = "ciba"
                    form = {"grant_type": CIBA, "auth_req_id": pending}
                    auth = "dpi-restart"
                try:
                    status = requests.post(
                        token_url,
                        data=form,
                        auth=(auth, secret if auth == "demo-web" else ciba_secret),
                        timeout=15,
                    ).status_code
                except requests.RequestException:
                    status = 0
                seen.append((time.monotonic(), kind, status))
                time.sleep(0.02)

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(2)
        down, up = _outage(env["PSC_DATABASE_URL"], DOWN_SECONDS)
        time.sleep(RECOVERY + 3)
        stop.set()
        worker.join(timeout=MAX_SECONDS + 20)

        expected = {"token": 200, "ciba": 400}  # a pending request: authorization_pending
        wrong = [(t, kind, s) for t, kind, s in seen if s != expected[kind]]
        assert wrong, "no request met the outage"
        assert all(s == 503 for _, _, s in wrong), wrong  # never a 500, never a hang
        assert all(down - 1 <= t <= up + RECOVERY for t, _, _ in wrong), (down, up, wrong)
        after = [s for t, kind, s in seen if t > up + RECOVERY]
        assert len(after) >= 10 and all(s in (200, 400) for s in after), after

        def redeem(form: dict[str, str], client: str, password: str) -> int:
            return requests.post(
                token_url, data=form, auth=(client, password), timeout=15
            ).status_code

        code_form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:3000/callback",
            "code_verifier": verifier,
        }
        refresh_form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        ciba_form = {"grant_type": CIBA, "auth_req_id": approved}
        for form, client, password in (
            (code_form, "demo-web", secret),
            (refresh_form, "demo-web", secret),
            (ciba_form, "dpi-restart", ciba_secret),
        ):
            assert redeem(form, client, password) == 200, form["grant_type"]
            assert redeem(form, client, password) == 400, form["grant_type"]
