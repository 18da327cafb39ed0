"""The relying-party matrix: real OpenID Connect libraries, each at its own defaults, against one
real psc-idp server (the e2e session's ``live_server``).

Every relying party is a small web application on a free port of ``localhost``, registered in
a realm file as an integrator would, and driven by a professional's browser
(``requests`` keeping cookies, or Chromium for the single-page application). Each one logs in
through la mire (test identity picker, then e-CPS answered by the demo realm's scenario), reads
UserInfo, refreshes twice and logs out."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.live_server import free_port
from tests.relying_party import run_cli

SUB_PREFIX = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:"
#: The identity chosen in the test identity picker.
PICKED = "899700218896"
#: Demo realm scenario: this professional's e-CPS approves every request after 2 seconds.
ECPS_AUTO_APPROVED = "899700100565"
MEANS = ["picker", "ecps"]
TIMEOUT = 15
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Registration:
    client_id: str
    base_url: str
    secret: str | None

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


#: Each relying party: client id, callback path, client authentication registered. Secret
#: clients get the default of ``psc-idp clients add`` (``client_secret_basic``) whatever their
#: library sends: psc-idp, as Keycloak, must accept both ways of presenting a secret.
RELYING_PARTIES = {
    "authlib": ("rp-authlib-flask", "/callback", "client_secret_basic"),
    "django": ("rp-django-mozilla", "/oidc/callback/", "client_secret_basic"),
    "express": ("rp-express-openid-client", "/callback", "client_secret_basic"),
    "spa": ("rp-spa-oidc-client-ts", "/callback", "none"),
}


@pytest.fixture(scope="session")
def registrations(live_server, tmp_path_factory) -> dict[str, Registration]:
    """Every relying party of the matrix registered on a free port of localhost, with one
    ``psc-idp realm import`` (each start of the command costs seconds)."""
    made, clients = {}, []
    for name, (client_id, callback, method) in RELYING_PARTIES.items():
        base_url = f"http://localhost:{free_port()}"
        secret = secrets.token_urlsafe(32) if method != "none" else None
        made[name] = Registration(client_id, base_url, secret)
        entry = {
            "client_id": client_id,
            "name": f"RP {client_id}",
            "token_endpoint_auth_method": method,
            "redirect_uris": [f"{base_url}{callback}"],
            "post_logout_redirect_uris": [f"{base_url}/bye"],
        }
        clients.append({**entry, "secret": secret} if secret else entry)
    realm = tmp_path_factory.mktemp("rp-matrix") / "clients.json"
    realm.write_text(json.dumps({"clients": clients}))
    run_cli(live_server, "realm", "import", str(realm))
    return made


@dataclass
class RelyingParty:
    base_url: str
    #: What the relying party printed so far (its own process only).
    output: Callable[[], str] = lambda: ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


class ProfessionalBrowser:
    """A browser without JavaScript: cookies kept, redirects followed one by one."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.http = requests.Session()
        self.visited: list[str] = []

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def follow(
        self, url: str, stop: Callable[[str], bool] = lambda _: False, data: dict | None = None
    ) -> tuple[str, requests.Response]:
        """Request ``url`` and follow redirects until an answer that is not one, or until a
        target ``stop`` accepts (not requested then); returns the last URL and answer."""
        method = "POST" if data is not None else "GET"
        while True:
            self.visited.append(url)
            response = self.http.request(
                method, url, data=data, allow_redirects=False, timeout=TIMEOUT
            )
            if response.status_code not in REDIRECTS:
                return url, response
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if stop(url):
                return url, response

    def _on_server(self, url: str, prefix: str) -> bool:
        parts = urlsplit(url)
        own = urlsplit(self.server.base_url)
        return parts.netloc == own.netloc and parts.path.startswith(prefix)

    def login(self, start: str, means: str, national_id: str | None = None) -> requests.Response:
        """From the relying party's login URL, through la mire, back to the relying party;
        returns the relying party's last answer."""
        mire, response = self.follow(start, lambda url: self._on_server(url, "/wallet/login/"))
        assert self._on_server(mire, "/wallet/login/"), (
            f"la mire was never reached: {self.visited} → HTTP {response.status_code} "
            f"{response.text[:800]}"
        )
        if means == "picker":
            resume = self._pick(mire, national_id or PICKED)
        else:
            resume = self._ecps(mire, national_id or ECPS_AUTO_APPROVED)
        _, landed = self.follow(resume)
        return landed

    def _csrf(self, url: str) -> str:
        page = self.get(url)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no csrf_token at {url}"
        return found.group(1)

    def _pick(self, mire: str, national_id: str) -> str:
        picker = f"{mire}/dev"
        form = {"csrf_token": self._csrf(picker), "national_id": national_id, "auth_mode": "CARD"}
        resume, _ = self.follow(picker, lambda _: True, data=form)
        return resume

    def _ecps(self, mire: str, national_id: str) -> str:
        means = f"{mire}/ecps"
        csrf = self._csrf(means)
        sent = self.http.post(
            means,
            data={"csrf_token": csrf, "step": "identify", "national_id": national_id},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert sent.status_code == 302, sent.text
        deadline = time.monotonic() + 20
        while (status := self.http.get(f"{means}/status", timeout=TIMEOUT).json())[
            "status"
        ] == "pending":
            assert time.monotonic() < deadline, "the e-CPS request was never answered"
            time.sleep(0.25)
        assert status["status"] == "approved", status
        done = {"csrf_token": csrf, "step": "complete"}
        resume, _ = self.follow(means, lambda _: True, data=done)
        return resume


@pytest.fixture
def professional(live_server) -> ProfessionalBrowser:
    return ProfessionalBrowser(live_server)


def serve_in_thread(wsgi_app: Any, port: int) -> Iterator[None]:
    """Serve a WSGI relying party on ``port`` of localhost until the generator is closed."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=10)


def spawn(
    command: list[str], env: dict[str, str], cwd: Path, ready: str
) -> Iterator[Callable[[], str]]:
    """Run a relying party in its own process until the generator is closed; waits for the
    line starting with ``ready`` on its output (all of it is shown if it never comes)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        deadline = time.monotonic() + 30
        while ready not in output():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not start:\n{output()[-4000:]}", pytrace=False)
            time.sleep(0.1)
        yield output
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def check_userinfo(userinfo: dict[str, Any], national_id: str) -> None:
    assert userinfo["sub"] == SUB_PREFIX + national_id
    assert userinfo["SubjectNameID"] == national_id


def check_server_side_journey(
    professional: ProfessionalBrowser, rp: RelyingParty, means: str
) -> dict[str, Any]:
    """A server-side RP's whole path: log in by ``means``, read userinfo, refresh twice (each
    time a new refresh token, the rotated one kept by the library), log out. Returns what the
    RP got at login, for the library's own checks."""
    national_id = PICKED if means == "picker" else ECPS_AUTO_APPROVED
    landed = professional.login(rp.url("/login"), means)
    assert landed.status_code == 200, landed.text
    first = landed.json()
    check_userinfo(first["userinfo"], national_id)
    assert first["id_token_claims"]["SubjectNameID"] == national_id
    assert first["userinfo"]["email"]  # scope email

    seen = [first["refresh_token"]]
    for _ in range(2):
        refreshed = professional.get(rp.url("/refresh"))
        assert refreshed.status_code == 200, refreshed.text
        check_userinfo(refreshed.json()["userinfo"], national_id)
        seen.append(refreshed.json()["refresh_token"])
    assert len(set(seen)) == 3  # rotated each time, and the rotated one was kept

    check_logout(professional, rp)
    return first


def check_logout(professional: ProfessionalBrowser, rp: RelyingParty) -> None:
    """RP-initiated logout ends on the registered post-logout URI, the RP's session gone."""
    url, bye = professional.follow(rp.url("/logout"))
    assert url.split("?")[0] == rp.url("/bye") and bye.status_code == 200, (url, bye.text)
    assert professional.get(rp.url("/me")).status_code == 401
