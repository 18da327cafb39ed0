"""Driving a server with wrk (Debian package ``wrk``) and reading what its Lua hooks counted.

Every load is a list of prepared requests that the Lua script cycles through (one, for the
simple GETs), or, for refresh-token rotation, a queue that each response refills with the token
it returned. Statuses are counted in the ``response`` hook, so an answer is an error unless it is
the one the scenario expects (CIBA's pending poll: 400 with ``authorization_pending``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_LUA_HOOKS = Path(__file__).with_name("load.lua")


@dataclass
class Request:
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Load:
    """What wrk sends to ``url`` and which answers count as success."""

    url: str
    requests: list[Request]
    expect_status: int = 200
    #: A Lua pattern the body must match to count as expected (empty: any body).
    expect_body: str = ""
    #: Refresh rotation: take the tokens from a queue that responses refill.
    rotate_refresh: bool = False


@dataclass
class Outcome:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict[str, int]
    #: connect, read, write errors and timeouts (2 s), as wrk counts them.
    socket_errors: dict[str, int] = field(default_factory=dict)

    def answers(self) -> str:
        """``200×897 400×3 timeout×2``: what came back, for the report."""
        counts = {**self.statuses, **{k: v for k, v in self.socket_errors.items() if v}}
        return " ".join(f"{k}×{v}" for k, v in sorted(counts.items()))

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk est nécessaire : apt-get install wrk")
    return path


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _data_script(load: Load) -> str:
    lines = [
        f"expect_status = {load.expect_status}",
        f"expect_body = {_lua_string(load.expect_body)}",
        f"rotate_refresh = {'true' if load.rotate_refresh else 'false'}",
        "prepared = {",
    ]
    for item in load.requests:
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in item.headers.items()
        )
        lines.append(
            f"  {{method = {_lua_string(item.method)}, body = {_lua_string(item.body)}, "
            f"headers = {{{headers}}}}},"
        )
    lines.append("}")
    return "\n".join(lines) + "\n" + _LUA_HOOKS.read_text()


def _check_ascii(load: Load) -> None:
    # The Lua literals above are JSON strings: escapes beyond ASCII would not read the same.
    for item in load.requests:
        for text in (item.body, *item.headers.keys(), *item.headers.values()):
            if not text.isascii():
                raise ValueError("wrk loads hold ASCII only")


def run(load: Load, *, seconds: float, connections: int, threads: int = 1) -> Outcome:
    """One timed phase; wrk's own timeout is 2 s, a timed-out request counts as an error."""
    wrk = require_wrk()
    _check_ascii(load)
    with tempfile.TemporaryDirectory(prefix="psc-bench-") as folder:
        script = Path(folder) / "load.lua"
        script.write_text(_data_script(load))
        completed = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "2s",
                "-s",
                str(script),
                load.url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk a échoué : {completed.stderr.strip() or completed.stdout}")
    return parse(completed.stdout)


def parse(output: str) -> Outcome:
    """Read the ``BENCH {...}`` line that the Lua ``done`` hook prints."""
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk n'a pas donné de résumé :\n{output}")
    data = json.loads(match.group(1))
    socket_errors = sum(data["socket"].values())
    statuses = {str(k): int(v) for k, v in data["statuses"].items()}
    return Outcome(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=int(data["unexpected"]) + socket_errors,
        statuses=statuses,
        socket_errors={k: int(v) for k, v in data["socket"].items()},
    )
