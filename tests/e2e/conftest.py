"""End-to-end set-up: a real ``psc-idp serve`` (granian) for the folder's tests.

On SQLite the server keeps everything in its own temporary folder (database, keys). On a
PostgreSQL run (``PSC_TEST_DATABASE_URL`` set) it works in the session's fresh database
(``database_url``) with the session's keys (``keys_dir``): the in-process app of the other test
folders and the server are then two instances of one deployment, and neither overwrites the
demo clients' secrets or signing keys of the other.

With ``PSC_TEST_INSTANCES=2`` (PostgreSQL only) ``live_server`` is two servers behind nginx,
round robin (tests/cluster.py): the same tests then run with their requests spread across
instances, and the session ends by checking from the access logs that both took their share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster, live_deployment, report_spread
from tests.live_server import LiveServer


@pytest.fixture(scope="session")
def live_server_options(database_url: str, keys_dir: Path) -> dict[str, Any]:
    """Keyword arguments of ``LiveServer`` (or ``Cluster``) for this run's database."""
    if os.environ.get("PSC_TEST_BASE_DATABASE_URL"):
        return {"env": {"PSC_DATABASE_URL": database_url}, "keys_dir": keys_dir}
    return {}


@pytest.fixture(scope="session")
def live_server(live_server_options: dict[str, Any]) -> Iterator[LiveServer | Cluster]:
    """``psc-idp serve`` in development mode (demo realm, test identity picker), session-wide;
    a cluster of them behind nginx with ``PSC_TEST_INSTANCES=2``."""
    server = live_deployment(**live_server_options)
    try:
        server.start()
        yield server
        if isinstance(server, Cluster):
            report_spread("tests/e2e", server.spread()).check()
    finally:
        server.stop()
