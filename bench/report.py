"""Phases measured → one table per run, printed and written to ``bench/results/<date>.md``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from bench.machine import SignatureLimits

COLUMNS = (
    "| Scenario | Server | req/s | p50 ms | p99 ms | errors | CPU ms/req | × peer | idle |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
)
PEER = "node-oidc-provider"


class Measured(Protocol):
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def requests_per_second(self) -> float: ...


@dataclass
class Phase:
    scenario: str
    server: str
    round: int
    outcome: Measured
    cpu_seconds: float
    idle: float


@dataclass
class Row:
    scenario: str
    server: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return sum(p.outcome.requests_per_second for p in self.phases) / len(self.phases)

    @property
    def p50_ms(self) -> float:
        return sum(p.outcome.p50_ms for p in self.phases) / len(self.phases)

    @property
    def p99_ms(self) -> float:
        return max(p.outcome.p99_ms for p in self.phases)

    @property
    def errors(self) -> int:
        return sum(p.outcome.errors for p in self.phases)

    @property
    def cpu_ms_per_request(self) -> float:
        requests = sum(p.outcome.requests for p in self.phases)
        return 1000 * sum(p.cpu_seconds for p in self.phases) / requests if requests else 0.0

    @property
    def idle(self) -> float:
        return min(p.idle for p in self.phases)


def rows(phases: list[Phase]) -> list[Row]:
    grouped: dict[tuple[str, str], Row] = {}
    for phase in phases:
        key = (phase.scenario, phase.server)
        grouped.setdefault(key, Row(*key)).phases.append(phase)
    return list(grouped.values())


def table(phases: list[Phase]) -> str:
    all_rows = rows(phases)
    peer_rate: dict[str, float] = defaultdict(float)
    for row in all_rows:
        if row.server == PEER:
            peer_rate[row.scenario] = row.requests_per_second
    lines = list(COLUMNS)
    for row in all_rows:
        ratio = ""
        if row.server != PEER and peer_rate.get(row.scenario):
            ratio = f"{row.requests_per_second / peer_rate[row.scenario]:.2f}"
        lines.append(
            f"| {row.scenario} | {row.server} | {row.requests_per_second:,.0f} | "
            f"{row.p50_ms:.1f} | {row.p99_ms:.1f} | {row.errors} | "
            f"{row.cpu_ms_per_request:.2f} | {ratio} | {row.idle:.0%} |"
        )
    return "\n".join(lines)


def by_round(phases: list[Phase]) -> str:
    """Each phase in the order it ran: how much the rounds differ tells how noisy the run was."""
    lines = [
        "| Scenario | Server | Round | req/s | p99 ms | errors | idle | answers |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for p in phases:
        answers = p.outcome.answers() if hasattr(p.outcome, "answers") else ""
        lines.append(
            f"| {p.scenario} | {p.server} | {p.round + 1} | {p.outcome.requests_per_second:,.0f} "
            f"| {p.outcome.p99_ms:.1f} | {p.outcome.errors} | {p.idle:.0%} | {answers} |"
        )
    return "\n".join(lines)


def issuance(phases: list[Phase], limits: SignatureLimits | None, cores: int) -> str:
    """client_credentials (one RS256 signature per token) against the signature limit."""
    if limits is None:
        return "Signature limit not measured (no openssl, or --no-openssl)."
    lines = [
        f"Signature limit of one core (`{limits.command}`): RS256 {limits.rs256_per_core:,.0f}/s, "
        f"ES256 {limits.es256_per_core:,.0f}/s; psc-idp uses {cores} core(s): "
        f"RS256 {limits.rs256_per_core * cores:,.0f}/s, "
        f"ES256 {limits.es256_per_core * cores:,.0f}/s.",
    ]
    for row in rows(phases):
        if row.scenario == "client_credentials":
            share = row.requests_per_second / (limits.rs256_per_core * cores)
            lines.append(
                f"- {row.server}: {row.requests_per_second:,.0f} tokens/s = {share:.0%} of the "
                "RS256 limit of those cores."
            )
    return "\n".join(lines)
