"""A database on a read-only file system, for real: the folder of a migrated SQLite database
bind-mounted read-only. psc-idp then refuses to start with a clear message (exit 2, no
traceback): in WAL mode SQLite cannot even open the file for reading there. A database that
turns read-only while psc-idp runs cannot be made here (the kernel refuses to remount a file
system with files open for writing): tests/http/test_writes_refused.py checks that case with
SQLite's own refusal of writes (``query_only``). Skipped where this process may not mount."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_app_for_tests


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
