"""A disk filled up for real: the SQLite database on a small tmpfs of its own, a file written
until the file system says ENOSPC. The token endpoint then answers 503 with the RFC's error
JSON that names the cause, la mire a French page that says it; nothing is half-written (the
database checks whole, no row of a refused request), and service resumes as soon as space is
freed, without a restart. Skipped where this process may not mount (not root, or a container
without CAP_SYS_ADMIN): tests/http/test_writes_refused.py then still checks SQLite's error."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.models import LoginTransaction
from psc_idp.protocol.models import AccessToken
from psc_idp.realm.loader import demo_secrets
from tests.conftest import create_app_for_tests
from tests.helpers import OIDC, basic
from tests.http.test_writes_refused import AUTHORIZE

DISK_SIZE = "4m"
CHUNK = 64 * 1024
MAX_CHUNKS = 2 * 4 * 1024 * 1024 // CHUNK  # twice the disk: the loop ends whatever happens


def _mount(point: Path) -> str | None:
    """Mount a small tmpfs at ``point``; the reason it cannot be done, or None."""
    if os.geteuid() != 0:
        return "mounting a file system needs root"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        return f"mount refused here: {done.stderr.strip() or done.returncode}"
    return None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "disk"
    point.mkdir()
    reason = _mount(point)
    if reason:
        pytest.skip(f"a real full disk cannot be made: {reason}")
    try:
        yield point
    finally:
        # Lazy: a connection SQLAlchemy has not closed yet must not keep the mount.
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)


def _fill(folder: Path) -> Path:
    """Write a file until the file system is full (a short write takes the last bytes, the
    next one fails with ENOSPC); returns it."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(MAX_CHUNKS):
            try:
                os.write(descriptor, b"\0" * CHUNK)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                return filler
        raise AssertionError("the small disk never filled up")
    finally:
        os.close(descriptor)


def _counts(app) -> tuple[int, int, str]:
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(LoginTransaction)),
            db.session.scalar(select(func.count()).select_from(AccessToken)),
            db.session.execute(text("PRAGMA integrity_check")).scalar(),
        )
        db.session.remove()
        return counts


def test_a_full_disk_is_503_with_a_clear_message_then_service_resumes(small_disk, tmp_path):
    database = small_disk / "psc-idp.sqlite3"
    app = create_app_for_tests(
        {
            "database_url": f"sqlite:///{database}",
            "keys_dir": str(tmp_path / "keys"),  # off the small disk: only the database fills it
            "dev_mode": True,
            "realm_file": "",
        }
    )
    http = app.test_client()
    with app.app_context():
        secret = demo_secrets(current_settings())["demo-web"]
        # Every page in the database file and an empty journal: the next write must grow one.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()

    def token():
        form = {"grant_type": "client_credentials"}
        return http.post(f"{OIDC}/token", data=form, headers=basic("demo-web", secret))

    assert token().status_code == 200
    assert http.get("/wallet/auth", query_string=AUTHORIZE).status_code == 302
    before = _counts(app)
    assert before[2] == "ok"

    filler = _fill(small_disk)
    assert os.statvfs(small_disk).f_bavail == 0

    refused = token()
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.headers["Retry-After"].isdigit()
    assert refused.get_json() == {
        "error": "temporarily_unavailable",
        "error_description": "Service temporarily unavailable: the database refuses writes"
        " (disk full or read-only)",
    }
    page = http.get("/wallet/auth", query_string=AUTHORIZE)  # a login starts with a write
    assert page.status_code == 503, page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert "espace disque plein" in page.get_data(as_text=True)
    assert _counts(app) == before  # nothing of the refused requests, the file whole

    filler.unlink()
    assert token().status_code == 200
    assert http.get("/wallet/auth", query_string=AUTHORIZE).status_code == 302
    after = _counts(app)
    assert after == (before[0] + 1, before[1] + 1, "ok")  # one login started, one token
    with app.app_context():
        db.engine.dispose()
