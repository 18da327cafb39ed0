"""A private PostgreSQL server for a test that stops and starts it for real: a Debian cluster
of its own (``pg_createcluster`` on a free port, trust authentication on loopback), dropped
with its data at the end. Nothing else runs on it, so restarting it disturbs nobody."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

from tests.live_server import free_port

TOOLS = ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "psql")
VERSIONS = Path("/usr/lib/postgresql")


def unavailable_reason() -> str | None:
    """Why a private cluster cannot be made here, or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"no {', '.join(missing)} (Debian's postgresql-common)"
    if not _version():
        return f"no PostgreSQL server under {VERSIONS}"
    if os.geteuid() != 0:
        return "pg_createcluster needs root"
    return None


def _version() -> str:
    versions = sorted(
        (p.name for p in VERSIONS.glob("*") if (p / "bin" / "postgres").exists()),
        key=lambda v: [int(part) for part in v.split(".") if part.isdigit()],
    )
    return versions[-1] if versions else ""


class Cluster:
    """``with Cluster() as cluster:`` a running server at ``cluster.url(database)``."""

    def __init__(self) -> None:
        self.version = _version()
        self.name = f"psc_test_{uuid.uuid4().hex[:8]}"
        self.port = free_port()

    def _ctl(self, action: str) -> None:
        # No systemd in a container: pg_ctl directly (it waits until the server is ready).
        self._run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action)

    @staticmethod
    def _run(*command: str) -> None:
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc",
            f'CREATE DATABASE "{name}"',
        )  # fmt: skip
        return self.url(name)

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")  # fast shutdown: sessions ended, everything committed kept

    def __enter__(self) -> Cluster:
        self._run(
            "pg_createcluster", self.version, self.name, "--port", str(self.port),
            "--", "--auth=trust",
        )  # fmt: skip
        try:
            self.start()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.drop()

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name],
            capture_output=True,
            timeout=60,
        )
