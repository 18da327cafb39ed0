"""Real servers for the concurrency tests: a database of their own on either engine."""

from __future__ import annotations

import os

from tests.conftest import _fresh_postgres


def live_database_env(database_url: str) -> dict[str, str]:
    """``PSC_DATABASE_URL`` for a LiveServer: a fresh PostgreSQL database when the suite runs
    on PostgreSQL (dropped at the end of the run), else the server's own SQLite file."""
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if not database_url.startswith("postgresql") or not base:
        return {}
    return {"PSC_DATABASE_URL": _fresh_postgres(base, "live")}
