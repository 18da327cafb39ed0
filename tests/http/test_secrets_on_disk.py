"""Secrets on disk: folders 0700 and files 0600 from the first start, no start on a readable
key, and no live code or token readable in the database."""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from psc_idp.keystore import AppSecret, ReadableSecretFile
from tests.ciba.test_ciba_ping import MIDWIFE, _deliver, _ping_client, receiver  # noqa: F401
from tests.conftest import create_app_for_tests
from tests.means.ecps.helpers import API, activate_by_contact

NURSE = "899700100490"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A first start in an empty folder, with the usual umask, on the default SQLite file."""
    root = tmp_path_factory.mktemp("first-start")
    settings = {
        "data_dir": str(root / "var"),
        "keys_dir": str(root / "keys"),
        "database_url": "",
        "dev_mode": True,
        "realm_file": "",
    }
    old = os.umask(0o022)
    try:
        app = create_app_for_tests(settings)
    finally:
        os.umask(old)
    return root, settings, app


def test_first_start_creates_private_folders_and_files(fresh):
    root, _, _ = fresh
    assert mode(root / "var") == 0o700
    assert mode(root / "var" / "psc-idp.sqlite3") == 0o600
    for extra in ("-wal", "-shm"):
        path = root / "var" / f"psc-idp.sqlite3{extra}"
        assert not path.exists() or mode(path) == 0o600
    assert mode(root / "keys") == 0o700
    assert mode(root / "keys" / "signing") == 0o700
    assert mode(root / "keys" / "app-secret") == 0o600
    keys = list((root / "keys" / "signing").glob("*.pem"))
    keys += list((root / "keys" / "pki").glob("*.key.pem"))
    assert keys and all(mode(key) == 0o600 for key in keys)


@pytest.mark.parametrize(
    "pattern",
    ["app-secret", "demo-client-secrets.json", "signing/RS256-*.pem", "pki/racine.key.pem"],
)
def test_start_refuses_a_readable_secret(fresh, pattern):
    root, settings, _ = fresh
    path = next((root / "keys").glob(pattern))
    path.chmod(0o640)
    try:
        with pytest.raises(ReadableSecretFile) as refused:
            create_app_for_tests(settings)
        message = str(refused.value)
        assert str(path) in message and f"chmod 600 {path}" in message
    finally:
        path.chmod(0o600)
    create_app_for_tests(settings)  # fixed by the chmod it names


def test_sealed_values_open_for_their_purpose_only(tmp_path):
    secret = AppSecret(tmp_path)
    sealed = secret.seal("123456", "outbox-body")
    assert "123456" not in sealed
    assert sealed != secret.seal("123456", "outbox-body")  # a fresh nonce each time
    assert secret.unseal(sealed, "outbox-body") == "123456"
    with pytest.raises(ValueError):
        secret.unseal(sealed, "ciba-notification-token")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(ValueError):
        secret.unseal(tampered, "outbox-body")
    with pytest.raises(ValueError):
        AppSecret(tmp_path / "other").unseal(sealed, "outbox-body")


def test_outbox_keeps_no_code_in_clear_but_shows_it_to_the_developer(app):
    from psc_idp.extensions import db

    http = app.test_client()
    assert http.post(f"{API}/activations", json={"national_id": NURSE}).status_code == 201
    with app.app_context():
        rows = db.session.execute(
            text("SELECT body FROM outbox_message ORDER BY id DESC LIMIT 2")
        ).scalars()
        stored = list(rows)
        from psc_idp.means.ecps import outbox

        shown = [m.body for m in outbox.latest(NURSE, limit=2)]
    codes = [re.search(r"\d{6}", body).group() for body in shown]
    assert len(codes) == 2
    for body in stored:
        assert not re.search(r"\d{6}", body)
    page = http.get("/dev/outbox", query_string={"national_id": NURSE}).get_data(as_text=True)
    assert all(code in page for code in codes)


def test_ciba_ping_token_is_sealed_at_rest_and_sent_as_given(app, receiver):  # noqa: F811
    from psc_idp.extensions import db

    dpi = _ping_client(app, receiver.url)
    phone = activate_by_contact(app, MIDWIFE, pin="1234")
    token = secrets.token_urlsafe(700)  # near the 1024-character limit once encoded
    binding = f"sealed {secrets.randbelow(10**6)}"  # names this request among the suite's
    answer = dpi.ask(login_hint=MIDWIFE, client_notification_token=token, binding_message=binding)
    auth_req_id = answer.get_json()["auth_req_id"]
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT notification_token, ping_auth_req_id FROM ciba_request"
                " WHERE binding_message = :binding"
            ),
            {"binding": binding},
        ).one()
    assert token not in row.notification_token and auth_req_id not in row.ping_auth_req_id
    request = next(r for r in phone.pending() if r["binding_message"] == binding)
    phone.decide(request, "approve", pin="1234")
    # Any instance on this database may send it: on PostgreSQL the session's live server is
    # woken by the decision too. Whoever sends it, the receiver gets the token as given.
    expected = (f"Bearer {token}", {"auth_req_id": auth_req_id})
    deadline = time.monotonic() + 10
    while expected not in receiver.pings and time.monotonic() < deadline:
        _deliver(app)
        time.sleep(0.05)
    assert expected in receiver.pings


def test_the_command_line_says_which_file_and_what_to_run(fresh):
    import subprocess
    import sys

    root, settings, _ = fresh
    secret = root / "keys" / "app-secret"
    secret.chmod(0o644)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PSC_KEYS_DIR": settings["keys_dir"],
        "PSC_DATA_DIR": settings["data_dir"],
    }
    try:
        command = [sys.executable, "-c", "from psc_idp.cli import main; main()", "routes"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    finally:
        secret.chmod(0o600)
    assert done.returncode == 2  # refused, as every start-up problem
    assert f"chmod 600 {secret}" in done.stderr and "Traceback" not in done.stderr
