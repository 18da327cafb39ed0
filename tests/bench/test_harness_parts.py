"""The benchmark's parts that need no server: wrk's summary, /proc, the realm, the table."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench import machine, report
from bench.realm import BenchRealm, national_id
from bench.servers import NEVER_REACHED, RATE_LIMITS
from bench.wrk import Load, Request, _data_script, parse
from psc_idp.directory.national_id import parse_national_id
from psc_idp.rate_limits import LIMITS
from psc_idp.rate_limits import parse as parse_rate

SUMMARY = (
    'Running 1s test\nBENCH {"requests": 900, "duration_us": 2000000, "p50_us": 1500, '
    '"p99_us": 42000, "unexpected": 3, "statuses": {"200": 897, "400": 3}, '
    '"socket": {"connect": 0, "read": 1, "write": 0, "timeout": 2}}\n'
)


def test_wrk_summary_counts_unexpected_statuses_and_socket_errors() -> None:
    outcome = parse(SUMMARY)
    assert outcome.requests_per_second == 450
    assert (outcome.p50_ms, outcome.p99_ms) == (1.5, 42.0)
    assert outcome.errors == 3 + 1 + 2
    assert outcome.statuses == {"200": 897, "400": 3}
    assert outcome.answers() == "200×897 400×3 read×1 timeout×2"


def test_wrk_output_without_summary_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_lua_data_quotes_bodies_and_refuses_non_ascii() -> None:
    load = Load("http://127.0.0.1:1/", [Request("POST", 'a"b\\c', {"X": "y"})], 400, "pending")
    script = _data_script(load)
    assert r'body = "a\"b\\c"' in script
    assert "expect_status = 400" in script
    from bench.wrk import _check_ascii

    with pytest.raises(ValueError):
        _check_ascii(Load("http://127.0.0.1:1/", [Request(body="é")]))


def test_process_tree_includes_the_children_of_a_server() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess,sys; subprocess.run(['sleep', '30'])"]
    )
    try:
        for _ in range(100):  # bounded: the child appears within a few seconds
            tree = machine.process_tree(parent.pid)
            if len(tree) == 2:
                break
            time.sleep(0.05)
        assert tree[0] == parent.pid and len(tree) == 2
        assert machine.cpu_seconds(parent.pid) >= 0
    finally:
        for pid in reversed(machine.process_tree(parent.pid)):
            subprocess.run(["kill", str(pid)], check=False)
        parent.wait(timeout=10)


def test_bench_professionals_have_valid_distinct_national_ids() -> None:
    ids = [national_id(i) for i in range(500)]
    assert len(set(ids)) == 500
    for value in ids:
        assert parse_national_id(value).origin == "RPPS"
    realm = BenchRealm.generate(10, 4).document()
    assert len(realm["practitioners"]) == 10
    assert [s["national_id"] for s in realm["ecps_scenarios"]] == ids[:4]
    activities = [a for e in realm["practitioners"][0]["exercices"] for a in e["activities"]]
    assert len(activities) == 3


class _Outcome:
    def __init__(self, rate: float, errors: int = 0) -> None:
        self.requests, self.seconds = int(rate * 2), 2.0
        self.p50_ms, self.p99_ms, self.errors = 1.0, 9.0, errors

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def test_table_gives_the_ratio_to_the_peer_and_cpu_per_request() -> None:
    phases = [
        report.Phase("jwks", "psc-idp (SQLite)", 0, _Outcome(300), 0.6, 0.95),
        report.Phase("jwks", report.PEER, 0, _Outcome(200), 0.2, 0.93),
        report.Phase("jwks", report.PEER, 1, _Outcome(200, errors=2), 0.2, 0.91),
        report.Phase("jwks", "psc-idp (SQLite)", 1, _Outcome(300), 0.6, 0.97),
    ]
    lines = report.table(phases).splitlines()
    assert lines[0] == report.COLUMNS[0]
    assert lines[2] == "| jwks | psc-idp (SQLite) | 300 | 1.0 | 9.0 | 0 | 1.00 | 1.50 | 95% |"
    assert lines[3] == "| jwks | node-oidc-provider | 200 | 1.0 | 9.0 | 2 | 0.50 |  | 91% |"
    rounds = report.by_round(phases).splitlines()
    assert rounds[2] == "| jwks | psc-idp (SQLite) | 1 | 300 | 9.0 | 0 | 95% |  |"
    assert rounds[4] == "| jwks | node-oidc-provider | 2 | 200 | 9.0 | 2 | 91% |  |"


def test_the_bench_raises_every_rate_limit_above_its_load():
    raised = {f"rate_limit_{name.lower()}" for name in RATE_LIMITS}
    assert raised == {setting for setting, _, _ in LIMITS.values()}
    rate = parse_rate(NEVER_REACHED)
    assert rate is not None and rate.count / rate.period >= 1_000_000
