"""``psc-idp requests CLIENT``: plain, ``--json``, ``--follow`` within a bound."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.devtools.journal.conftest import rows
from tests.helpers import TOKEN, Browser, token_call


def test_plain_output_newest_last_with_the_checks(journal_app, own_client):
    token_call(journal_app, own_client, grant_type="client_credentials")
    Browser(journal_app).authorize(own_client.client_id, nonce=None)
    result = journal_app.test_cli_runner().invoke(args=["requests", own_client.client_id])
    assert result.exit_code == 0, result.output
    first, second = result.output.index(" token "), result.output.index(" authorize ")
    assert first < second  # newest last
    assert "avertissement : nonce absent / missing nonce" in result.output
    assert own_client.secret not in result.output


def test_json_lines_and_limit(journal_app, own_client):
    for _ in range(3):
        token_call(journal_app, own_client, grant_type="client_credentials")
    journal_app.test_client().post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": own_client.client_id,
            "client_secret": "faux",
        },
    )
    result = journal_app.test_cli_runner().invoke(
        args=["requests", own_client.client_id, "--json", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 2
    assert [line["id"] for line in lines] == [
        row["id"] for row in rows(journal_app, own_client.client_id)[-2:]
    ]
    last = lines[-1]
    assert last["kind"] == "token" and last["status"] == 401
    assert last["checks"] == [
        {
            "code": "client_secret_wrong",
            "refusal": True,
            "fr": "secret client incorrect",
            "en": "wrong client secret",
        }
    ]


def test_follow_prints_new_requests_until_its_bound(journal_app, own_client):
    token_call(journal_app, own_client, grant_type="client_credentials")

    def later() -> None:
        time.sleep(0.6)
        token_call(journal_app, own_client, grant_type="refresh_token", refresh_token="r" * 20)

    sender = threading.Thread(target=later)
    sender.start()
    started = time.monotonic()
    result = journal_app.test_cli_runner().invoke(
        args=[
            "requests",
            own_client.client_id,
            "--follow",
            "--json",
            "--interval",
            "0.2",
            "--max-seconds",
            "2",
        ]
    )
    sender.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert 1.5 < time.monotonic() - started < 10
    grants = [json.loads(line)["sent"]["form"]["grant_type"] for line in result.output.splitlines()]
    assert grants == ["client_credentials", "refresh_token"]


def test_follow_bound_from_the_environment(journal_app, own_client, monkeypatch):
    monkeypatch.setenv("PSC_REQUESTS_MAX_SECONDS", "0.3")
    result = journal_app.test_cli_runner().invoke(
        args=["requests", own_client.client_id, "--follow", "--interval", "0.2"]
    )
    assert result.exit_code == 0 and result.output == ""


def test_an_unknown_client_is_refused(journal_app):
    result = journal_app.test_cli_runner().invoke(args=["requests", "personne"])
    assert result.exit_code == 1 and "client inconnu : personne" in result.output


def test_off_it_says_so(app, clients):
    result = app.test_cli_runner().invoke(args=["requests", clients.web.client_id])
    assert result.exit_code == 0
    assert "Journal des requêtes désactivé" in result.output


def _line(stream, deadline: float) -> str:
    """The next line of ``stream`` before ``deadline`` (the process is killed otherwise)."""
    ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
    assert ready, "no line in time"
    return stream.readline()


def test_follow_in_its_own_process_ends_cleanly_on_ctrl_c(
    journal_app, own_client, database_url, keys_dir, tmp_path
):
    token_call(journal_app, own_client, grant_type="client_credentials")
    env = {
        **os.environ,
        "PSC_DATABASE_URL": database_url,
        "PSC_KEYS_DIR": str(keys_dir),
        "PSC_DATA_DIR": str(tmp_path),
        "PSC_DEV_MODE": "1",
        "PSC_LOG_FORMAT": "text",
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(Path(sys.executable).with_name("psc-idp")), "requests", own_client.client_id]
    follower = subprocess.Popen(
        [*command, "--follow", "--json", "--interval", "0.2", "--max-seconds", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        first = json.loads(_line(follower.stdout, deadline))
        assert first["sent"]["form"]["grant_type"] == "client_credentials"
        token_call(journal_app, own_client, grant_type="refresh_token", refresh_token="r" * 20)
        second = json.loads(_line(follower.stdout, deadline))
        assert second["sent"]["form"]["grant_type"] == "refresh_token"
        follower.send_signal(signal.SIGINT)
        _, errors = follower.communicate(timeout=15)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait(timeout=10)
    assert follower.returncode == 0, errors
    assert "Traceback" not in errors
