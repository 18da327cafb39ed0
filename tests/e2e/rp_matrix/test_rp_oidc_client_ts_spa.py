"""A single-page application with oidc-client-ts (its browser build) in Chromium, as a public
client like ``demo-spa``: every call to psc-idp (discovery, token, UserInfo, refresh) is a
cross-origin ``fetch`` from the application's origin, so this is CORS with the client's web
origins (default ``+``: the redirect URIs' origins) in a real browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import launched_chromium
from tests.e2e.rp_matrix.conftest import (
    ECPS_AUTO_APPROVED,
    MEANS,
    PICKED,
    RelyingParty,
    check_userinfo,
)

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
LIBRARY = HERE.parents[1] / "e2e" / "node" / "node_modules" / "oidc-client-ts" / "dist" / "browser"


def static_files(config: dict[str, str]) -> dict[str, tuple[str, bytes]]:
    page = (HERE / "spa" / "index.html").read_bytes()
    return {
        "/": ("text/html; charset=utf-8", page),
        "/callback": ("text/html; charset=utf-8", page),
        "/bye": ("text/html; charset=utf-8", page),
        "/app.js": ("text/javascript", (HERE / "spa" / "app.js").read_bytes()),
        "/config.js": ("text/javascript", f"window.RP_CONFIG = {json.dumps(config)};".encode()),
        "/oidc-client-ts.min.js": (
            "text/javascript",
            (LIBRARY / "oidc-client-ts.min.js").read_bytes(),
        ),
    }


def serve_static(files: dict[str, tuple[str, bytes]], port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            found = files.get(self.path.split("?")[0])
            if found is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def spa(live_server, registrations) -> Iterator[RelyingParty]:
    if not (LIBRARY / "oidc-client-ts.min.js").is_file():
        pytest.skip("oidc-client-ts is not installed: run `npm ci` in tests/e2e/node")
    me = registrations["spa"]
    files = static_files({"authority": live_server.issuer, "client_id": me.client_id})
    server = serve_static(files, me.port)
    yield RelyingParty(me.base_url)
    server.shutdown()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium) -> Iterator[Any]:
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.console_messages = []  # what the application and the browser said (CORS errors…)
    page.on("console", lambda message: page.console_messages.append(message.text))
    page.calls = []  # the application's fetches to psc-idp, with the CORS answer
    page.on(
        "response",
        lambda response: (
            page.calls.append(
                (
                    response.request.method,
                    response.url.split("?")[0],
                    response.status,
                    response.headers.get("access-control-allow-origin"),
                )
            )
            if response.request.resource_type == "fetch"
            else None
        ),
    )
    yield page
    context.close()


def wait_for(page: Any, url: str) -> None:
    """Wait for ``url``; on a time-out, say what the browser said (a CORS refusal…)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(url, timeout=20_000)
    except PlaywrightTimeout:
        pytest.fail(
            f"never reached {url} (at {page.url}); console: {page.console_messages}; "
            f"calls: {page.calls}",
            pytrace=False,
        )


def log_in_on_la_mire(page: Any, server: Any, means: str) -> None:
    wait_for(page, f"{server.base_url}/wallet/login/**")
    if means == "picker":
        page.locator("a.means", has_text="Identité de test").click()
        page.locator('input[name="national_id_typed"]').fill(PICKED)
        page.locator('label[for="auth-mode-card"]').click()
        page.get_by_role("button", name="Se connecter avec cette identité").click()
    else:
        page.locator("a.means", has_text="Application e-CPS").click()
        page.get_by_label("Identifiant national").fill(ECPS_AUTO_APPROVED)
        page.get_by_role("button", name="Envoyer la demande sur mon e-CPS").click()


@pytest.mark.parametrize("means", MEANS)
def test_spa_login_userinfo_two_refreshes_and_logout(live_server, spa, page, means):
    national_id = PICKED if means == "picker" else ECPS_AUTO_APPROVED
    page.goto(spa.url("/"))
    assert page.evaluate("window.rpReady") == {"user": None}
    page.evaluate("() => { rp.login(); }")  # navigates away: not awaited
    log_in_on_la_mire(page, live_server, means)
    wait_for(page, f"{spa.base_url}/callback?*")
    ready = page.evaluate("window.rpReady")
    assert "user" in ready and ready["user"], (ready, page.console_messages)
    user = ready["user"]
    check_userinfo(user["profile"], national_id)  # loadUserInfo: merged from UserInfo
    oidc = f"{live_server.issuer}/protocol/openid-connect"
    assert ("GET", f"{oidc}/userinfo", 200, spa.base_url) in page.calls, page.calls
    assert ("POST", f"{oidc}/token", 200, spa.base_url) in page.calls, page.calls
    assert user["refresh_token"] and user["has_id_token"]

    seen = [user["refresh_token"]]
    for _ in range(2):
        refreshed = page.evaluate("rp.refresh()")
        assert refreshed["access_token"] != user["access_token"], page.console_messages
        check_userinfo(refreshed["profile"], national_id)
        seen.append(refreshed["refresh_token"])
    assert len(set(seen)) == 3

    page.evaluate("() => { rp.logout(); }")
    wait_for(page, f"{spa.base_url}/bye*")
    assert page.evaluate("rp.user()") is None
