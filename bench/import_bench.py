"""``make bench-import``: an Annuaire Santé import at national scale, then the same file again.

Writes a synthetic LibreAcces file (2 million rows by default, kept for later runs), imports it
into a fresh database with ``psc-idp directory import``, then imports it a second time (nothing
changed). Each import runs in its own process, so its wall time and peak memory (ru_maxrss) are
its own. Targets: SQLite 3 min, PostgreSQL 5 min, re-import at most half of that, under 400 MB.
``--format fhir`` does the same with one synthetic searchset Bundle (a single JSON document
holding every resource), to show that a FHIR import's memory does not grow with the file.

    python bench/import_bench.py [--rows N] [--format libreacces|fhir] [--database-url URL]
        [--import-args '--sequential'] [--once]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PSC_IDP = Path(sys.executable).with_name("psc-idp")
LIMIT_MB = 400


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends serving one database, sampled from ``/proc``
    every half second while a command runs (the server runs on this machine). A backend that
    ends between two samples loses its last half second; the import's own connection lives
    as long as the import. Shared processes (WAL writer, checkpointer) are not counted."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.database = parsed.database
        self.engine = create_engine(parsed.set(database="postgres"), pool_size=1)
        self.seen: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        from sqlalchemy import text

        tick = os.sysconf("SC_CLK_TCK")
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = :name")
        with self.engine.connect() as connection:
            while not self.done.wait(0.5):
                pids = connection.execute(query, {"name": self.database}).scalars().all()
                connection.rollback()
                for pid in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick
        self.engine.dispose()

    def __enter__(self) -> _ServerCpu:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join(timeout=10)

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one child process: CPU of the
    process and of the processes it started (an import's reading process), RSS the largest."""
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode})")
    cpu = usage.ru_utime + usage.ru_stime
    return time.monotonic() - started, cpu, usage.ru_maxrss / 1024, output


def _fresh_database(url: str | None, work: Path) -> str:
    if not url:
        database = work / "import-bench.sqlite3"
        database.unlink(missing_ok=True)
        return f"sqlite:///{database}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database (dropped)")
    parser.add_argument("--format", choices=("libreacces", "fhir"), default="libreacces")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-import")
    parser.add_argument(
        "--import-args", default="", help="more options of the import, e.g. '--sequential'"
    )
    parser.add_argument(
        "--once", action="store_true", help="the import only, without the re-import"
    )
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    if args.format == "fhir":
        source = work / f"annuaire_sante_fhir_synth_{args.rows}.json"  # one Bundle
    else:
        source = work / f"PS_LibreAcces_Personne_activite_synth_{args.rows}.txt"
    env = {**os.environ, "PSC_KEYS_DIR": str(work / "keys"), "PSC_REALM_FILE": ""}
    if not source.exists():
        command = ["directory", "synth", "--rows", str(args.rows), "--format", args.format]
        seconds, _, _, _ = _run([str(PSC_IDP), *command, "--output", str(source)], env)
        print(f"synthetic file: {args.rows} rows in {seconds:.0f} s ({source})")
    print(f"{source.name}: {source.stat().st_size / 2**20:.0f} MB")
    env["PSC_DATABASE_URL"] = _fresh_database(args.database_url, work)
    backend = "postgresql" if args.database_url else "sqlite"
    target = 300 if args.database_url else 180
    # The wall time depends on what else the machine runs: the load is printed with it.
    print(f"backend {backend}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    results = []
    for label in ("import",) if args.once else ("import", "re-import"):
        command = [str(PSC_IDP), "directory", "import", str(source)]
        command += shlex.split(args.import_args)
        load = os.getloadavg()[0]
        if args.database_url:
            with _ServerCpu(args.database_url) as server:
                seconds, cpu, peak, output = _run(command, env)
            on_server = f"  {server.seconds:7.1f} s server CPU"
        else:
            seconds, cpu, peak, output = _run(command, env)
            on_server = ""
        results.append((label, seconds, peak))
        print(
            f"{label:10} {seconds:7.1f} s wall  {cpu:7.1f} s CPU{on_server}  "
            f"{args.rows / seconds:9.0f} rows/s  {peak:6.0f} MB  "
            f"load {load:.1f} → {os.getloadavg()[0]:.1f}"
        )
        print("   " + output.strip().replace("\n", "\n   "))
    if args.format == "fhir":  # no time target for FHIR files: memory only
        peak = max(p for _, _, p in results)
        print(f"target: peak < {LIMIT_MB} MB [{'ok' if peak < LIMIT_MB else 'MISSED'}]")
        return
    if args.once:
        return
    first, again = results[0][1], results[1][1]
    scale = args.rows / 2_000_000
    print(
        f"targets (scaled to {args.rows} rows): import <= {target * scale:.0f} s "
        f"[{'ok' if first <= target * scale else 'MISSED'}], re-import <= half "
        f"[{'ok' if again <= first / 2 else 'MISSED'}], peak < {LIMIT_MB} MB "
        f"[{'ok' if max(p for _, _, p in results) < LIMIT_MB else 'MISSED'}]"
    )


if __name__ == "__main__":
    main()
