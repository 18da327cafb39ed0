"""``make bench`` in miniature: the harness against a real psc-idp (no npm, no peer).

Runs ``python -m bench --quick`` on two scenarios, one answered 200 (discovery) and one whose
expected answer is a 400 (CIBA pending poll), and reads the report it writes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| Scenario | Server | req/s | p50 ms | p99 ms | errors | CPU ms/req | × peer | idle |"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]


def _rows(report: str) -> dict[tuple[str, str], list[str]]:
    found = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 9 and re.fullmatch(r"[\d,]+", cells[2]):
            found[(cells[0], cells[1])] = cells
    return found


def test_quick_run_reports_every_column_and_no_error(tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSC_")}
    command = [
        sys.executable, "-m", "bench", "--quick", "--seconds", "1", "--no-peer", "--no-openssl",
        "--scenarios", "discovery,ciba_poll", "--output", str(output),
    ]  # fmt: skip
    servers = ["psc-idp (SQLite)"]
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if base:
        command += ["--database", "postgres"]
        env["PSC_BENCH_DATABASE_URL"] = base
        servers = ["psc-idp (PostgreSQL)"]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

    report = output.read_text()
    assert HEADER in report
    assert HEADER in done.stdout  # the table is also printed
    rows = _rows(report)
    assert set(rows) == {(s, server) for s in ("discovery", "ciba_poll") for server in servers}
    for cells in rows.values():
        assert float(cells[2].replace(",", "")) > 0  # req/s
        assert cells[5] == "0"  # errors: a pending poll's 400 is what was expected
        assert float(cells[6]) > 0  # CPU ms/req, read from /proc
    assert "- psc-idp: " in report and "- Command: `python -m bench --quick" in report
