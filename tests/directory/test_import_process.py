"""``psc-idp directory import`` as a user runs it, in a process of its own: killed mid-import
(SIGKILL) then run again, on a terminal (progress bar) and in a pipe (quiet)."""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from psc_idp.directory import synth

PSC_IDP = Path(sys.executable).with_name("psc-idp")
WAIT = 120  # seconds, at most, for anything the child process does


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PSC_DATABASE_URL": f"sqlite:///{tmp_path / 'psc.sqlite3'}",
        "PSC_KEYS_DIR": str(tmp_path / "keys"),
        "PSC_REALM_FILE": "",
        "PSC_DEV_MODE": "0",
    }


def _query(tmp_path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(tmp_path / "psc.sqlite3", timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _run_reached(tmp_path: Path) -> int:
    try:
        rows = _query(tmp_path, "SELECT next_position FROM dir_import_run")
    except sqlite3.OperationalError:  # migrations not applied yet
        return 0
    return rows[0][0] if rows else 0


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth.write_file(tmp_path_factory.mktemp("synth") / "big.txt", "libreacces", 30_000)


def test_killed_mid_import_then_run_again_resumes_without_duplicates(
    tmp_path: Path, big_file: Path
) -> None:
    env = _env(tmp_path)
    command = [str(PSC_IDP), "directory", "import", str(big_file), "--batch-size", "100"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + WAIT
    while _run_reached(tmp_path) == 0 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)  # as a power cut would: no cleanup at all
    child.communicate(timeout=WAIT)
    reached = _run_reached(tmp_path)
    assert 0 < reached < 30_001, "the kill came before the first batch or after the last"
    [(status,)] = _query(tmp_path, "SELECT status FROM dir_import_run")
    assert status == "running"
    persons_before = _query(tmp_path, "SELECT count(*) FROM dir_practitioner")[0][0]

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT * 2)
    assert again.returncode == 0, again.stderr
    assert f"Reprise d'un import interrompu, à la ligne {reached}." in again.stdout
    assert "Lignes lues : 30000" in again.stdout and "Lignes rejetées : 0" in again.stdout
    people = {p.national_id for p, _, _ in synth.persons(30_000, 1)}
    [(count, distinct)] = _query(
        tmp_path, "SELECT count(*), count(DISTINCT national_id) FROM dir_practitioner"
    )
    assert count == distinct == len(people) > persons_before
    [(activities,)] = _query(tmp_path, "SELECT count(*) FROM dir_activity")
    assert activities == 30_000  # every row once: none lost, none written twice
    assert _query(tmp_path, "SELECT status FROM dir_import_run") == [("done",)]


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_progress_bar_is_drawn_on_a_terminal_and_absent_from_a_pipe(
    tmp_path: Path, big_file: Path
) -> None:
    env = _env(tmp_path)
    command = [str(PSC_IDP), "directory", "import", str(big_file)]
    main, secondary = pty.openpty()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    terminal = _read_all(main).decode("utf-8", "replace")
    os.close(main)
    stdout = child.communicate(timeout=WAIT)[0].decode()
    assert child.returncode == 0
    assert "\r" in terminal and "100 %" in terminal and "30\u202f000 lignes" in terminal
    assert "lignes/s" in terminal and "reste" in terminal
    assert "Professionnels créés" in stdout and "█" not in stdout  # the summary stays clean

    piped = subprocess.run(
        [*command, "--full"], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert piped.returncode == 0 and piped.stderr == ""
    assert "Professionnels inchangés" in piped.stdout


@pytest.mark.parametrize("file_format", synth.FORMATS)
def test_a_zip_of_each_format_imports_as_the_plain_file(tmp_path: Path, file_format: str) -> None:
    env = _env(tmp_path)
    plain = synth.write_file(tmp_path / f"plain.{file_format}", file_format, 300)
    zipped = synth.write_file(tmp_path / "published.zip", file_format, 300)

    def run(path: Path) -> str:
        done = subprocess.run(
            [str(PSC_IDP), "directory", "import", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = run(zipped)
    assert f"Format : {file_format}" in first and ", compressé" in first
    assert "Lignes rejetées : 0" in first
    created = int(first.split("Professionnels créés : ")[1].split()[0])
    assert created > 100
    second = run(plain)  # the same content: nobody created or changed
    assert "Professionnels créés : 0" in second and "Professionnels mis à jour : 0" in second
    assert f"Professionnels inchangés : {created}" in second


def test_killed_while_a_second_process_reads_the_file_both_end_then_it_resumes(
    tmp_path: Path, big_file: Path
) -> None:
    """The reading process does not outlive a killed import: it would hold the terminal (and
    these pipes) open, and read a file nobody writes any more."""
    env = _env(tmp_path)
    command = [str(PSC_IDP), "directory", "import", str(big_file), "--batch-size", "100"]
    child = subprocess.Popen(
        [*command, "--parallel"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + WAIT
    while _run_reached(tmp_path) == 0 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)  # returns once the reader, holding the pipes too, is gone
    reached = _run_reached(tmp_path)
    assert 0 < reached < 30_001
    again = subprocess.run(
        [*command, "--parallel"], env=env, capture_output=True, text=True, timeout=WAIT * 2
    )
    assert again.returncode == 0, again.stderr
    assert f"Reprise d'un import interrompu, à la ligne {reached}." in again.stdout
    assert "Lignes lues : 30000" in again.stdout and "Lignes rejetées : 0" in again.stdout
    [(count, distinct)] = _query(
        tmp_path, "SELECT count(*), count(DISTINCT national_id) FROM dir_practitioner"
    )
    assert count == distinct == len({p.national_id for p, _, _ in synth.persons(30_000, 1)})
