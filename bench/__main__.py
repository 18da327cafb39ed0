"""``make bench``: psc-idp side by side with node-oidc-provider, under the same wrk load.

Starts ``psc-idp serve`` on SQLite (and on PostgreSQL with ``--postgres``, or on PostgreSQL
alone with ``--database postgres``) and
node-oidc-provider (npm, temporary folder), then runs every scenario on each server in turn,
A B then B A, waiting for an idle machine before each phase and reading the server's CPU time
from /proc. Writes ``bench/results/<date>.md`` and prints the table."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import flows, machine, report, servers, stored  # noqa: E402
from bench.realm import BenchRealm  # noqa: E402
from bench.scenarios import SHARED, Sizes  # noqa: E402
from bench.wrk import require_wrk, run  # noqa: E402
from psc_idp.http.server import DEFAULT_THREADS  # noqa: E402

PSC_ONLY = ("login", "ecps_approval")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, help="durée de chaque mesure (10 s ; 2 s en --quick)"
    )
    parser.add_argument("--connections", type=int, default=32, help="connexions wrk")
    parser.add_argument("--rounds", type=int, help="tours, A B puis B A (2 ; 1 en --quick)")
    parser.add_argument(
        "--scenarios",
        default=",".join([*SHARED, *PSC_ONLY]),
        help="scénarios séparés par des virgules",
    )
    parser.add_argument("--quick", action="store_true", help="vérification rapide (2 s, 1 tour)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        default=bool(os.environ.get("PSC_BENCH_DATABASE_URL")),
        help="psc-idp aussi sur PostgreSQL (PSC_BENCH_DATABASE_URL, sinon 127.0.0.1:5432)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres", "both"),
        help="bases de psc-idp (sqlite ; both avec --postgres)",
    )
    parser.add_argument("--no-peer", action="store_true", help="psc-idp seul, sans npm")
    parser.add_argument("--workers", type=int, default=2, help="processus serveur de psc-idp")
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="fils par processus de psc-idp (défaut de serve)",
    )
    parser.add_argument(
        "--idle-wait", type=float, help="attente maximale du repos (30 s ; 2 s en --quick)"
    )
    parser.add_argument(
        "--stored",
        type=int,
        default=0,
        help="lignes ajoutées (professionnels, autorisations, jetons) avant les mesures",
    )
    parser.add_argument(
        "--no-openssl", action="store_true", help="sans mesure de la limite de signature"
    )
    parser.add_argument("--output", type=Path, help="fichier du rapport (bench/results/<date>.md)")
    options = parser.parse_args(argv)
    options.database = options.database or ("both" if options.postgres else "sqlite")
    # --quick changes the defaults only: an explicit --seconds still wins.
    defaults = (2, 1, 2) if options.quick else (10, 2, 30)
    for name, default in zip(("seconds", "rounds", "idle_wait"), defaults, strict=True):
        if getattr(options, name) is None:
            setattr(options, name, default)
    unknown = set(options.scenarios.split(",")) - {*SHARED, *PSC_ONLY}
    if unknown:
        parser.error(f"scénarios inconnus : {', '.join(sorted(unknown))}")
    return options


class Bench:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.phases: list[report.Phase] = []
        self.sizes = Sizes(ciba_polls=150, ciba_bodies=100) if options.quick else Sizes()

    def measure(self, scenario: str, target: servers.Target, round_: int, go: Callable) -> None:
        idle = machine.wait_for_idle(limit=self.options.idle_wait)
        before = machine.cpu_seconds(target.pid)
        outcome = go()
        used = machine.cpu_seconds(target.pid) - before
        self.phases.append(report.Phase(scenario, target.name, round_, outcome, used, idle))
        print(
            f"  {scenario:<20} {target.name:<22} {outcome.requests_per_second:>8,.0f} req/s  "
            f"p99 {outcome.p99_ms:6.1f} ms  errors {outcome.errors}"
            + (
                f"  ({outcome.answers()})" if outcome.errors and hasattr(outcome, "answers") else ""
            ),
            flush=True,
        )

    def shared(self, scenario: str, targets: list[servers.Target]) -> None:
        for round_ in range(self.options.rounds):
            for target in targets if round_ % 2 == 0 else reversed(targets):
                load = SHARED[scenario](target, self.sizes, self.options.connections)
                self.measure(
                    scenario,
                    target,
                    round_,
                    lambda load=load: run(
                        load, seconds=self.options.seconds, connections=self.options.connections
                    ),
                )

    def psc_only(self, scenario: str, targets: list[servers.PscTarget]) -> None:
        for round_ in range(self.options.rounds):
            for target in targets if round_ % 2 == 0 else reversed(targets):
                go = self._login(target) if scenario == "login" else self._approvals(target)
                self.measure(scenario, target, round_, go)

    @property
    def _flow_workers(self) -> int:
        return min(self.options.connections, 8)

    def _login(self, target: servers.PscTarget) -> Callable[[], flows.FlowOutcome]:
        return lambda: flows.logins(target, self.options.seconds, self._flow_workers)

    def _approvals(self, target: servers.PscTarget) -> Callable[[], flows.FlowOutcome]:
        if not target.devices:
            # One phone per worker: each posts its decisions one after the other.
            target.devices = flows.activate_devices(target, self._flow_workers)
        count = 20 if self.options.quick else 400
        prepared = flows.prepare_approvals(target, target.devices, count)
        return lambda: flows.approvals(target, prepared, self.options.seconds, self._flow_workers)


def _versions(peer_version: str) -> dict[str, str]:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %cs"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    found = {
        "psc-idp": f"{version('psc-idp')} ({commit or '?'})",
        "wrk": machine.version_of(["wrk", "-v"]),
        "openssl": machine.version_of(["openssl", "version"]),
    }
    if peer_version:
        found["node-oidc-provider"] = f"{peer_version} (node {machine.version_of(['node', '-v'])})"
    return found


def _write(options: argparse.Namespace, text: str) -> Path:
    path = options.output or ROOT / "bench" / "results" / f"{datetime.date.today()}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> None:
    options = _options(argv)
    require_wrk()
    wanted = options.scenarios.split(",")
    realm = BenchRealm.generate(40, 30) if options.quick else BenchRealm.generate()
    bench = Bench(options)
    peer_version = ""
    with contextlib.ExitStack() as stack:
        psc = []
        if options.database != "postgres":
            psc.append(
                stack.enter_context(
                    servers.psc_idp(realm, workers=options.workers, threads=options.threads)
                )
            )
        if options.database != "sqlite":
            url = os.environ.get("PSC_BENCH_DATABASE_URL") or DEFAULT_POSTGRES
            database = stack.enter_context(servers.fresh_postgres(url))
            psc.append(
                stack.enter_context(
                    servers.psc_idp(realm, database, options.workers, options.threads)
                )
            )
        for target in psc if options.stored else []:
            target.access_token()  # a first login: the rows the filler copies
            counts = stored.fill(target.database_url, options.stored)
            print(f"{target.name}: {counts}", flush=True)
        targets: list[servers.Target] = list(psc)
        if not options.no_peer:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="psc-peer-")))
            peer_version = servers.install_peer(folder)
            claims = _claims(psc[0])
            targets.append(stack.enter_context(servers.peer(claims, folder)))
        print(
            f"{len(targets)} servers, {options.seconds:g} s × {options.rounds} rounds", flush=True
        )
        for scenario in wanted:
            if scenario in SHARED:
                bench.shared(scenario, targets)
            else:
                bench.psc_only(scenario, psc)
    limits = None if options.no_openssl else machine.signature_limits(1 if options.quick else 3)
    cores = min(options.workers, os.cpu_count() or 1)
    text = _document(options, bench.phases, limits, cores, _versions(peer_version))
    path = _write(options, text)
    print("\n" + report.table(bench.phases))
    print("\n" + report.issuance(bench.phases, limits, cores))
    print(f"\nRapport : {path}")


def _claims(target: servers.PscTarget) -> dict:
    """The UserInfo psc-idp serves for the bench practitioner: the peer serves the same."""
    import requests

    bearer = {"Authorization": f"Bearer {target.access_token()}"}
    answer = requests.get(target.endpoint("userinfo_endpoint"), headers=bearer, timeout=30)
    answer.raise_for_status()
    return answer.json()


def _document(
    options: argparse.Namespace,
    phases: list[report.Phase],
    limits: machine.SignatureLimits | None,
    cores: int,
    versions: dict[str, str],
) -> str:
    described = machine.describe()
    command = "python -m bench " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "make bench"
    lines = [
        f"# Benchmark {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {described['cpu']}, {described['memory']}, Linux {described['kernel']}, "
        f"load average {described['load']} at the end (the load generator shares the cores).",
        *(f"- {name}: {value}" for name, value in versions.items()),
        f"- Python {described['python']}; psc-idp `psc-idp serve --workers {options.workers} "
        f"--threads {options.threads}` "
        f"(granian), access log off, database: {options.database}"
        + (f", {options.stored:,} extra stored rows per table" if options.stored else "")
        + ("" if options.no_peer else "; node-oidc-provider: one process, in-memory adapter")
        + ".",
        f"- Command: `{command}`; each phase `wrk -t1 -c{options.connections} "
        f"-d{options.seconds:g}s --timeout 2s -s load.lua`, {options.rounds} round(s), servers "
        "alternated A B then B A per scenario.",
        "- `idle`: CPU idle share of the 2 s before the phase (the bench waits for > 90 %, "
        f"at most {options.idle_wait:g} s). `errors`: unexpected statuses and socket errors. "
        "`CPU ms/req`: the server's process tree (utime + stime, /proc).",
        "",
        report.table(phases),
        "",
        report.issuance(phases, limits, cores),
        "",
        "Phases in the order they ran:",
        "",
        report.by_round(phases),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
