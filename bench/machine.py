"""The machine under the benchmark: how idle it is, the CPU a server used, its signature limits.

Everything is read from /proc (Linux) and ``openssl speed``; nothing is estimated."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


# --- idle -----------------------------------------------------------------------------------
def _cpu_counters() -> tuple[int, int]:
    """(idle + iowait, total) jiffies over all CPUs, from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields[:8])


def wait_for_idle(threshold: float = 0.90, window: float = 2.0, limit: float = 30.0) -> float:
    """Wait until the CPUs were idle more than ``threshold`` over ``window`` seconds, at most
    ``limit`` seconds; returns the idle fraction of the last window (lower on a busy machine)."""
    deadline = time.monotonic() + limit
    idle = 0.0
    while True:
        start = _cpu_counters()
        time.sleep(window)
        end = _cpu_counters()
        total = end[1] - start[1]
        idle = (end[0] - start[0]) / total if total else 1.0
        if idle > threshold or time.monotonic() + window > deadline:
            return idle


# --- CPU time of a process tree -------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """utime + stime of the live tree, plus what its reaped children used (cutime + cstime)."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat(pid)
        if fields is not None:
            # Fields 14-17 of proc(5), here shifted by the two removed (pid, comm).
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / _TICK


# --- signature limits -----------------------------------------------------------------------
@dataclass
class SignatureLimits:
    rs256_per_core: float
    es256_per_core: float
    command: str


def signature_limits(seconds: int = 3) -> SignatureLimits | None:
    """Signatures per second of one core (``openssl speed``), or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    command = ["openssl", "speed", "-seconds", str(seconds), "rsa2048", "ecdsap256"]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=20 * seconds + 60, check=True
    ).stdout
    rsa = re.search(r"^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", output, re.MULTILINE)
    ec = re.search(r"^\s*256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)", output, re.M)
    if rsa is None or ec is None:
        raise RuntimeError(f"sortie d'openssl speed illisible :\n{output}")
    return SignatureLimits(float(rsa.group(1)), float(ec.group(1)), " ".join(command))


# --- description ----------------------------------------------------------------------------
def describe() -> dict[str, str]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {
        "cpu": f"{os.cpu_count()} × {model or platform.processor() or '?'}",
        "memory": f"{int(memory) // 1024 // 1024} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": Path("/proc/loadavg").read_text().split()[0],
    }


def version_of(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except OSError:
        return "?"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr)
        else "?"
    )
