"""The end-to-end suite's cluster mode: ``psc-idp serve`` instances behind Debian's nginx.

With ``PSC_TEST_INSTANCES=2`` (PostgreSQL only: ``PSC_TEST_DATABASE_URL``), the ``live_server``
of tests/e2e and tests/browser is a ``Cluster``: two instances on one database, one keys folder
and one data folder, behind nginx with docs/deploy.md's upstream (round robin, no stickiness).
Its issuer is nginx's plain-HTTP origin on localhost (``http://localhost:<port>``), which both
instances announce (``PSC_BASE_URL``) and whose forwarded headers they believe
(``PSC_TRUSTED_PROXIES=127.0.0.1``). It offers what the tests use of a ``LiveServer``
(``base_url``, ``issuer``, ``url()``, ``demo_secret()``, ``output()``, ``environment()``…), so
they run unchanged; ``spread()`` counts what each instance served, from its access log."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from tests.live_server import REALM_PATH, LiveServer, free_port
from tests.nginx import NGINX, TEMPLATE, Nginx, ProxiedServer, plain_http, render, site_values
from tests.nginx import upstream as upstream_lines

INSTANCES_VARIABLE = "PSC_TEST_INSTANCES"
#: The topology docs/deploy.md shows (its upstream block has two ``server`` lines).
CLUSTER_SIZE = 2
#: Below this share of the requests, an instance is said not to take part (a broken upstream,
#: a sticky one): round robin gives each of two instances about half.
MIN_SHARE = 0.25
#: The text access line: ``… psc_idp.access: GET protocol.token 200 3 ms 127.0.0.1 …``.
ACCESS_LINE = re.compile(r" psc_idp\.access: [A-Z]+ (\S+) (\d{3}) ")


def instances_wanted() -> int:
    """How many instances ``live_server`` is made of (``PSC_TEST_INSTANCES``, default 1).

    Several instances share one database: on SQLite (each server its own file) it cannot mean
    anything, so it is refused rather than silently ignored."""
    raw = os.environ.get(INSTANCES_VARIABLE, "").strip() or "1"
    if raw not in ("1", str(CLUSTER_SIZE)):
        raise pytest.UsageError(f"{INSTANCES_VARIABLE}={raw}: 1 or {CLUSTER_SIZE} instances")
    count = int(raw)
    if count > 1 and not os.environ.get("PSC_TEST_DATABASE_URL"):
        raise pytest.UsageError(
            f"{INSTANCES_VARIABLE}={raw} needs PostgreSQL (PSC_TEST_DATABASE_URL): the "
            "instances of a cluster share one database"
        )
    return count


@dataclass
class Spread:
    """Requests each instance served: all of them, and the protocol endpoints'."""

    requests: list[int]
    protocol: list[int]
    #: Requests in nginx's access log: the instances' sum, unless some never reached one.
    proxied: int = 0
    #: Answers 500 and above: the instances' own, and nginx's (which include a 502 when an
    #: instance could not be reached). Never expected of the suite's servers.
    server_errors: list[int] = field(default_factory=list)
    proxied_errors: int = 0

    @staticmethod
    def shares(counts: list[int]) -> list[float]:
        total = sum(counts)
        return [count / total if total else 0.0 for count in counts]

    def describe(self) -> str:
        def part(counts: list[int]) -> str:
            shares = self.shares(counts)
            return " / ".join(f"{c} ({s:.0%})" for c, s in zip(counts, shares, strict=True))

        errors = "/".join(str(n) for n in self.server_errors) or "0"
        return (
            f"requests {part(self.requests)}; protocol requests {part(self.protocol)}; "
            f"through nginx {self.proxied}; 5xx {errors} (nginx {self.proxied_errors})"
        )

    def check(self, min_share: float = MIN_SHARE, min_protocol: int = 20) -> None:
        """Each instance served at least ``min_share`` of the requests and, once there are
        ``min_protocol`` of them, of the protocol requests."""
        assert sum(self.requests) > 0, "no request reached the instances"
        assert not sum(self.server_errors) and not self.proxied_errors, self.describe()
        low = [s for s in self.shares(self.requests) if s < min_share]
        assert not low, f"nginx did not spread the requests: {self.describe()}"
        if sum(self.protocol) >= min_protocol:
            low = [s for s in self.shares(self.protocol) if s < min_share]
            assert not low, f"nginx did not spread the protocol requests: {self.describe()}"


#: What each cluster served, by who used it: printed at the end of the run.
SPREADS: list[tuple[str, Spread]] = []


def report_spread(label: str, spread: Spread) -> Spread:
    SPREADS.append((label, spread))
    return spread


def spread_summary() -> list[str]:
    """The end-of-run lines: each cluster's figures, then their sum."""
    if not SPREADS:
        return []
    lines = [f"{label}: {spread.describe()}" for label, spread in SPREADS]
    total = Spread(
        requests=[sum(column) for column in zip(*(s.requests for _, s in SPREADS), strict=True)],
        protocol=[sum(column) for column in zip(*(s.protocol for _, s in SPREADS), strict=True)],
        proxied=sum(s.proxied for _, s in SPREADS),
        server_errors=[sum(c) for c in zip(*(s.server_errors for _, s in SPREADS), strict=True)],
        proxied_errors=sum(s.proxied_errors for _, s in SPREADS),
    )
    return [*lines, f"all clusters: {total.describe()}"]


def served(output: str) -> Counter[tuple[str, int]]:
    """Requests in a server's output, by endpoint and status (its access log lines)."""
    return Counter((m.group(1), int(m.group(2))) for m in ACCESS_LINE.finditer(output))


class Cluster:
    """``CLUSTER_SIZE`` ``psc-idp serve`` behind nginx, reachable at ``base_url``.

    :param env: extra environment of every instance (``PSC_DATABASE_URL``: a PostgreSQL one).
    :param keys_dir: keys of the deployment (fresh ones if not given), shared by the instances.
    :param data_dir: the deployment's data folder (the first instance's if not given).
    :param workers: worker processes of each instance.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        keys_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        workers: int = 2,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://localhost:{self.port}"
        self.extra_env = {
            **(env or {}),
            "PSC_BASE_URL": self.base_url,
            "PSC_TRUSTED_PROXIES": "127.0.0.1",
            "PSC_TLS_PORT": "0",
        }
        self.workers = workers
        self._keys_dir = keys_dir
        self._data_dir = data_dir
        self.instances: list[ProxiedServer] = []
        self.nginx: Nginx | None = None
        self._baseline: list[Counter[str]] = []

    # --- addresses, as a LiveServer's ------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"{self.base_url}{REALM_PATH}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def first(self) -> ProxiedServer:
        return self.instances[0]

    @property
    def keys_dir(self) -> Path:
        return self.first.keys_dir

    @property
    def data_dir(self) -> Path:
        return self.first.data_dir

    def demo_secret(self, client_id: str) -> str:
        return self.first.demo_secret(client_id)

    def environment(self) -> dict[str, str]:
        """The deployment's environment (any instance's): for ``psc-idp`` commands."""
        return self.first.environment()

    def output(self) -> str:
        """Every instance's output, one after the other, each under its own heading."""
        return "\n".join(
            f"--- instance {number} ({server.backend}) ---\n{server.output()}"
            for number, server in enumerate(self.instances, start=1)
        )

    # --- what each instance served ---------------------------------------------------------
    def spread(self) -> Spread:
        """Requests served by each instance since the cluster started (not its start-up)."""
        counts = [
            served(server.output()) - baseline
            for server, baseline in zip(self.instances, self._baseline, strict=True)
        ]
        statuses = self.nginx.statuses() if self.nginx else Counter()
        return Spread(
            requests=[sum(c.values()) for c in counts],
            protocol=[
                sum(n for (endpoint, _), n in c.items() if endpoint.startswith("protocol."))
                for c in counts
            ],
            proxied=sum(statuses.values()),
            server_errors=[sum(n for (_, status), n in c.items() if status >= 500) for c in counts],
            proxied_errors=sum(n for status, n in statuses.items() if status >= 500),
        )

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> Cluster:
        if not os.access(NGINX, os.X_OK):
            raise pytest.UsageError(f"cluster mode needs Debian's nginx ({NGINX})")
        try:
            # One after the other: the first one generates the keys and the demo secrets.
            for _ in range(CLUSTER_SIZE):
                keys = self.first.keys_dir if self.instances else self._keys_dir
                data = self.first.data_dir if self.instances else self._data_dir
                server = ProxiedServer(
                    self.base_url,
                    env=self.extra_env,
                    keys_dir=keys,
                    data_dir=data,
                    workers=self.workers,
                )
                self.instances.append(server)
                server.start()
            values = site_values(self.first, self.port)
            values["UPSTREAM"] = upstream_lines(*self.instances)
            self.nginx = Nginx(plain_http(render(TEMPLATE.read_text(), values)), self.port)
            self.nginx.start()
            self._baseline = [served(server.output()) for server in self.instances]
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """nginx, then every instance. Idempotent."""
        if self.nginx is not None:
            self.nginx.stop()
        for server in reversed(self.instances):
            server.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        backends = ", ".join(server.backend for server in self.instances)
        return f"<Cluster {self.base_url} → {backends}>"


def live_deployment(
    env: Mapping[str, str] | None = None, *, keys_dir: str | Path | None = None
) -> LiveServer | Cluster:
    """What ``live_server`` is in this run: one ``LiveServer``, or a ``Cluster`` with
    ``PSC_TEST_INSTANCES=2``. Not started."""
    if instances_wanted() > 1:
        return Cluster(env, keys_dir=keys_dir)
    return LiveServer(env, keys_dir=keys_dir)
