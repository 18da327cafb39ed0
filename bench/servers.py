"""The two servers under load, behind one interface: where their endpoints are, which process
tree burns their CPU, and how to prepare the tokens and requests a timed phase consumes.

psc-idp runs as ``psc-idp serve`` (granian, its defaults) on SQLite or on a fresh PostgreSQL
database; the peer is node-oidc-provider, installed by npm into a temporary folder."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.login import login
from bench.realm import CLIENT_ID, BenchRealm, national_id
from tests.live_server import LiveServer, free_port

PEER_PACKAGE = "oidc-provider@9.13.3"
PEER_SCRIPT = Path(__file__).with_name("peer") / "server.mjs"
CIBA_EXPIRY = 600  # seconds: prepared requests outlive every phase that polls them
_local = threading.local()  # one keep-alive session per preparing thread


def _session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def parallel(count: int, task: Callable[[int], Any], workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, range(count)))


@dataclass
class Target:
    """A running server as the scenarios see it."""

    name: str
    issuer: str
    secret: str
    pid: int
    metadata: dict[str, Any] = field(default_factory=dict)
    #: login_hint values whose CIBA requests stay pending.
    pending_hints: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        self.metadata = response.json()

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{CLIENT_ID}:{self.secret}".encode()).decode()

    def endpoint(self, name: str) -> str:
        return self.metadata[name]

    def ciba_form(self, index: int) -> dict[str, str]:
        return {
            "scope": "openid scope_all",
            "login_hint": self.pending_hints[index % len(self.pending_hints)],
            "binding_message": f"{index % 100:02d}",
            "requested_expiry": str(CIBA_EXPIRY),
        }

    def ciba_requests(self, count: int) -> list[str]:
        """``count`` CIBA requests that stay pending; their ``auth_req_id``."""

        def one(index: int) -> str:
            response = _session().post(
                self.endpoint("backchannel_authentication_endpoint"),
                data=self.ciba_form(index),
                headers={"Authorization": self.basic},
                timeout=30,
            )
            response.raise_for_status()
            return response.json()["auth_req_id"]

        return parallel(count, one)

    # Overridden by each server.
    def access_token(self) -> str:
        raise NotImplementedError

    def refresh_tokens(self, count: int) -> list[str]:
        raise NotImplementedError


class PscTarget(Target):
    def __init__(self, server: LiveServer, realm: BenchRealm, label: str, database: str) -> None:
        self.server, self.realm = server, realm
        self.database_url = database or f"sqlite:///{server.data_dir / 'psc-idp.sqlite3'}"
        super().__init__(label, server.issuer, realm.secret, server.pid or 0)
        self.pending_hints = realm.pending_ids
        #: The practitioner whose UserInfo is read: two exercices, three activities.
        self.subject = national_id(realm.professionals - 1)
        #: e-CPS activated for the approval scenario (``flows.activate_devices``), kept across
        #: rounds.
        self.devices: list[Any] = []

    def _tokens(self) -> dict[str, Any]:
        return login(self.server.base_url, self.issuer, CLIENT_ID, self.secret, self.subject)

    def access_token(self) -> str:
        return self._tokens()["access_token"]

    def refresh_tokens(self, count: int) -> list[str]:
        # One login each: every token starts its own rotation family.
        return parallel(count, lambda _: self._tokens()["refresh_token"], workers=4)


class PeerTarget(Target):
    def __init__(self, issuer: str, secret: str, pid: int, admin_token: str) -> None:
        self.admin_token = admin_token
        super().__init__("node-oidc-provider", issuer, secret, pid)
        self.pending_hints = [national_id(i) for i in range(150)]

    def _prepare(self, kind: str, count: int) -> list[str]:
        response = requests.get(
            f"{self.issuer}/bench/prepare",
            params={"kind": kind, "count": count, "sub": national_id(0)},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=120,
        )
        response.raise_for_status()
        return response.json()

    def access_token(self) -> str:
        return self._prepare("access", 1)[0]

    def refresh_tokens(self, count: int) -> list[str]:
        return self._prepare("refresh", count)


# --- psc-idp --------------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_postgres(base_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server of ``base_url``, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"psc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


#: The limits the benchmark raises (docs/operations.md, « Limites et verrouillages »).
RATE_LIMITS = (
    "TOKEN",
    "INTROSPECTION",
    "PAR",
    "CIBA",
    "CIBA_PER_NATIONAL_ID",
    "LOGIN_PER_NATIONAL_ID",
    "LOGIN_PER_IP",
    "ADMIN_LOGIN",
)
NEVER_REACHED = "100000000/10s"


@contextlib.contextmanager
def psc_idp(
    realm: BenchRealm, database_url: str = "", workers: int = 2, threads: int | None = None
) -> Iterator[PscTarget]:
    """``psc-idp serve`` on the bench realm (SQLite unless ``database_url``), with ``threads``
    per worker (None: serve's default)."""
    folder = Path(tempfile.mkdtemp(prefix="psc-bench-realm-"))
    env = {
        "PSC_REALM_FILE": str(realm.write(folder)),
        "PSC_ACCESS_LOG": "0",
        # Long-lived tokens: none expires during a run.
        "PSC_ACCESS_TOKEN_LIFETIME": "3600",
        # Pending polls cycle over a few prepared requests, each polled many times a second:
        # without an interval no poll is answered slow_down (the peer has none). Every poll
        # is still recorded, so a pending poll costs what it costs with PSC's 5 s.
        "PSC_CIBA_INTERVAL": "0",
        # The CIBA scenario keeps thousands of requests pending over a few hundred professionals;
        # the per-professional cap on pending pushes (an anti-fatigue rule) would refuse them.
        "PSC_ECPS_MAX_PENDING_PUSHES": "1000000",
        # One client at full speed, the CIBA scenario's few hundred professionals, every login
        # from 127.0.0.1: limits the load never reaches, still counted at every request, so
        # that each request pays its counter as in production.
        **{f"PSC_RATE_LIMIT_{name}": NEVER_REACHED for name in RATE_LIMITS},
        "PSC_ECPS_REQUEST_LIFETIME": str(CIBA_EXPIRY),
        "PSC_ECPS_DEVICES_DIR": str(folder / "devices"),
        # Development mode turns error scenarios and the request journal on, which leave every
        # request to Flask: the bench measures the server as deployed, with the workers'
        # shortcut (LiveServer already turns the journal off; said here for the reader).
        "PSC_SCENARIOS": "0",
        "PSC_REQUEST_JOURNAL": "0",
    }
    if database_url:
        env["PSC_DATABASE_URL"] = database_url
    label = "psc-idp (PostgreSQL)" if database_url else "psc-idp (SQLite)"
    try:
        # The test identity picker (development mode) is how the login scenarios sign in.
        with LiveServer(env=env, workers=workers, threads=threads, startup_timeout=120) as server:
            yield PscTarget(server, realm, label, database_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- node-oidc-provider ---------------------------------------------------------------------
def install_peer(folder: Path) -> str:
    """``npm install oidc-provider@<pinned>`` into ``folder``; returns the installed version."""
    subprocess.run(
        ["npm", "install", PEER_PACKAGE, "--prefix", str(folder), "--no-audit", "--no-fund"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    package = folder / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(package.read_text())["version"]


@contextlib.contextmanager
def peer(claims: dict[str, Any], install_dir: Path) -> Iterator[PeerTarget]:
    """node-oidc-provider on a free loopback port, serving ``claims`` as every UserInfo."""
    port = free_port()
    secret, admin = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    claims_file = install_dir / "claims.json"
    claims_file.write_text(json.dumps(claims))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSC_", "BENCH_"))},
        "NODE_ENV": "production",
        "BENCH_PORT": str(port),
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_CLIENT_SECRET": secret,
        "BENCH_ADMIN_TOKEN": admin,
        "BENCH_CLAIMS_FILE": str(claims_file),
        "OIDC_PROVIDER_DIR": str(install_dir),
    }
    log_path = install_dir / "peer.log"
    with running_node(PEER_SCRIPT, env, log_path) as process:
        issuer = f"http://localhost:{port}"
        _wait_for(f"{issuer}/.well-known/openid-configuration", process, log_path)
        yield PeerTarget(issuer, secret, process.pid, admin)


@contextlib.contextmanager
def running_node(
    script: Path, env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``node script`` in a session of its own, its output in ``log_path``, until the block
    ends (terminated, then killed if it lingers)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [shutil.which("node") or "node", str(script)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node-oidc-provider s'est arrêté :\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"node-oidc-provider ne répond pas sur {url}")
