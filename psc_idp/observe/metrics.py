"""Prometheus metrics: what the rest of the code counts, through small functions.

Every metric has labels, so that no value exists before its first use: ``psc-idp serve`` can
still switch the process to multi-process mode (server workers) after the app is built
(``use_multiprocess``). Label values are bounded: means, outcomes and grant types are fixed
lists, clients are registered ones, endpoints are Flask endpoint names (never a raw path)."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LOGINS = Counter("psc_logins", "Connexions par moyen (authMode) et issue.", ["means", "outcome"])
TOKENS = Counter(
    "psc_tokens_issued", "Jetons émis par type de grant et client.", ["grant_type", "client"]
)
CIBA_REQUESTS = Counter(
    "psc_ciba_requests", "Demandes CIBA par issue (accepted, refused, approved…).", ["outcome"]
)
ECPS_PUSH_LATENCY = Histogram(
    "psc_ecps_push_answer_seconds",
    "Délai entre l'envoi d'une demande e-CPS et la réponse du téléphone.",
    ["outcome"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 90, 120),
)
REQUEST_LATENCY = Histogram(
    "psc_http_request_duration_seconds",
    "Durée des requêtes HTTP par point d'entrée (nom Flask) et méthode.",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30),
)
RESPONSES = Counter(
    "psc_http_responses", "Réponses HTTP par point d'entrée et statut.", ["endpoint", "status"]
)
RATE_LIMIT_REFUSALS = Counter(
    "psc_rate_limit_refusals", "Requêtes refusées par une limite de débit (429).", ["limit"]
)


def count_login(means: str, outcome: str) -> None:
    LOGINS.labels(means or "unknown", outcome).inc()


def count_token(grant_type: str, client_id: str) -> None:
    TOKENS.labels(grant_type, client_id).inc()


def count_ciba(outcome: str) -> None:
    CIBA_REQUESTS.labels(outcome).inc()


def observe_push_answer(seconds: float, outcome: str) -> None:
    ECPS_PUSH_LATENCY.labels(outcome).observe(max(seconds, 0.0))


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(endpoint, method).observe(seconds)
    RESPONSES.labels(endpoint, str(status)).inc()


def count_refusal(limit_name: str) -> None:
    """A rate limit refused a request (its name: ``token_per_client``, ``login_per_ip``…)."""
    RATE_LIMIT_REFUSALS.labels(limit_name).inc()


def use_multiprocess(folder: Path) -> None:
    """Values in files under ``folder``, shared by the workers (before any is created)."""
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.get_value_class()


def exposition() -> tuple[bytes, str]:
    """The text format: every worker's files in multi-process mode, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def forget_dead_workers() -> None:
    """A dead worker's live gauges leave the sum: called by each worker as it starts (one
    started in place of a dead one), for every process id of the folder no longer running."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    for pid in {_pid_of(name) for name in os.listdir(folder)} - {None, os.getpid()}:
        if not _running(pid):
            multiprocess.mark_process_dead(pid)


def _pid_of(name: str) -> int | None:
    """``gauge_livesum_1234.db`` → 1234."""
    tail = name.rsplit("_", 1)[-1].removesuffix(".db")
    return int(tail) if tail.isdigit() else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
