"""A read-only database, for real, two ways.

- **The file**: a migrated SQLite database made 0400, and ``psc-idp serve`` started without the
  capability that lets root write through file modes (``setpriv``: no ``CAP_DAC_OVERRIDE``),
  as a service user would run it. It starts and reads; a token request answers 503 with the
  RFC's error JSON that names the cause, la mire a French page that says it, and nothing is
  written.
- **The file system**: the database's folder bind-mounted read-only. In WAL mode SQLite cannot
  even open the file there: psc-idp refuses to start with a clear message (exit 2, no
  traceback).

A file system turning read-only under a running psc-idp cannot be made here (the kernel
refuses to remount one with files open for writing). Skipped where this process may not mount
or drop capabilities."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import create_app_for_tests
from tests.live_server import free_port


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=30)


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(folder of a migrated database, the same folder mounted read-only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    written, read_only = tmp_path / "written", tmp_path / "read-only"
    written.mkdir()
    read_only.mkdir()
    app = create_app_for_tests(_settings(tmp_path, written))
    with app.app_context():
        from psc_idp.extensions import db

        db.engine.dispose()  # checkpointed and closed: no -wal or -shm left
    bind = _run("mount", "--bind", str(written), str(read_only))
    if bind.returncode != 0:
        pytest.skip(f"mount refused here: {bind.stderr.strip()}")
    try:
        remount = _run("mount", "-o", "remount,bind,ro", str(read_only))
        if remount.returncode != 0:
            pytest.skip(f"read-only remount refused here: {remount.stderr.strip()}")
        yield written, read_only
    finally:
        _run("umount", "-l", str(read_only))


def _settings(root: Path, folder: Path) -> dict[str, object]:
    return {
        "database_url": f"sqlite:///{folder / 'psc-idp.sqlite3'}",
        "keys_dir": str(root / "keys"),
        "data_dir": str(root / "data"),
        "dev_mode": True,
        "realm_file": "",
    }


def test_start_on_a_read_only_database_is_refused_clearly(read_only_copy, tmp_path):
    written, read_only = read_only_copy
    with pytest.raises(OSError):
        (read_only / "probe").write_text("x")  # the mount is read-only for real
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PSC_DATABASE_URL": f"sqlite:///{read_only / 'psc-idp.sqlite3'}",
        "PSC_KEYS_DIR": str(tmp_path / "keys"),
        "PSC_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-c", "from psc_idp.cli import main; main()", "routes"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "base de données inaccessible" in done.stderr
    assert "lecture seule" in done.stderr and "Traceback" not in done.stderr
    # The same database where it can be written: the start goes through.
    env["PSC_DATABASE_URL"] = f"sqlite:///{written / 'psc-idp.sqlite3'}"
    assert subprocess.run(command, env=env, capture_output=True, timeout=60).returncode == 0


# --- the file ------------------------------------------------------------------------------
SETPRIV = shutil.which("setpriv")
WITHOUT_OVERRIDE = "--bounding-set=-dac_override,-dac_read_search"
REDIRECT = "http://localhost:3000/callback"


def _cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-c", "from psc_idp.cli import main; main()", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(database: Path) -> tuple[int, ...]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return tuple(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("oauth_grant", "oauth_access_token", "login_transaction", "audit_event")
        )


@pytest.fixture
def read_only_file(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, str]]:
    """(environment of a production start, the database made read-only, a client secret)."""
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv (util-linux) to start without CAP_DAC_OVERRIDE")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PSC_DATA_DIR": str(tmp_path / "data"),
        "PSC_KEYS_DIR": str(tmp_path / "keys"),
        "PSC_DEV_MODE": "0",
        "PSC_REALM_FILE": "",
    }
    _cli(env, "db", "upgrade")
    _cli(env, "clients", "add", "ro-web", "--redirect-uri", REDIRECT, "--json")
    made = json.loads(
        _cli(env, "clients", "add", "ro-service", "--grant-type", "client_credentials", "--json")
    )
    database = tmp_path / "data" / "psc-idp.sqlite3"
    database.chmod(0o400)
    yield env, database, made["client_secret"]
    database.chmod(0o600)


def test_a_read_only_database_file_answers_503_and_keeps_everything(read_only_file):
    env, database, secret = read_only_file
    before = _rows(database)
    port = free_port()
    command = [SETPRIV, WITHOUT_OVERRIDE, "--", sys.executable, "-c"]
    command += ["from psc_idp.cli import main; main()", "serve", "--port", str(port)]
    command += ["--workers", "1"]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        token = requests.post(
            f"{base}/auth/realms/esante-wallet/protocol/openid-connect/token",
            data={"grant_type": "client_credentials"},
            auth=("ro-service", secret),
            timeout=10,
        )
        assert token.status_code == 503, token.text
        assert token.json()["error"] == "temporarily_unavailable"
        assert "read-only" in token.json()["error_description"]
        mire = requests.get(
            f"{base}/wallet/auth",
            params={
                "response_type": "code",
                "client_id": "ro-web",
                "redirect_uri": REDIRECT,
                "scope": "openid",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert mire.status_code == 503 and "lecture seule" in mire.text, mire.text
        assert "Traceback" not in mire.text
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "attempt to write a readonly database" in output
    assert _rows(database) == before  # nothing half-written


def _wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[0]
        try:
            if requests.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("psc-idp serve never became ready on the read-only database")
