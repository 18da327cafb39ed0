"""Test set-up shared by every folder.

The suite runs on SQLite by default and on PostgreSQL when ``PSC_TEST_DATABASE_URL`` is set:
each run then works in fresh databases created here and dropped at the end, so nothing is shared
with other runs or with the directory tests' own tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from psc_idp.rate_limits import LIMITS
from tests.cluster import instances_wanted, spread_summary
from tests.helpers import Browser, TestClients

_created: list[str] = []


def _fresh_postgres(base_url: str, label: str) -> str:
    url = make_url(base_url)
    name = f"psc_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    fresh = url.set(database=name).render_as_string(hide_password=False)
    _created.append(fresh)
    return fresh


def pytest_configure(config: pytest.Config) -> None:
    instances_wanted()  # PSC_TEST_INSTANCES refused before anything is created
    base = os.environ.get("PSC_TEST_DATABASE_URL")
    if base and not os.environ.get("PSC_TEST_DATABASE_FRESH"):
        os.environ["PSC_TEST_BASE_DATABASE_URL"] = base
        os.environ["PSC_TEST_DATABASE_URL"] = _fresh_postgres(base, "dir")
        os.environ["PSC_TEST_DATABASE_FRESH"] = "1"


def pytest_report_header(config: pytest.Config) -> str:
    count = instances_wanted()
    if count > 1:
        return f"live servers: clusters of {count} psc-idp instances behind nginx (round robin)"
    return "live servers: one psc-idp instance each"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = spread_summary()
    if lines:
        terminalreporter.section("requests served by each instance of the clusters")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    for fresh in _created:
        url = make_url(fresh)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if base:
        return _fresh_postgres(base, "app")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'psc-idp.sqlite3'}"


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> str:
    """A database of its own, for a test that must not touch the session's (migrations)."""
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if base:
        return _fresh_postgres(base, "own")
    return f"sqlite:///{tmp_path / 'own.sqlite3'}"


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def make_app(database_url: str, keys_dir: Path):
    """Build an app through the factory, on the session's database and keys."""

    def build(**overrides: Any) -> Flask:
        settings = {
            "database_url": database_url,
            "keys_dir": str(keys_dir),
            "dev_mode": True,
            "realm_file": "",
            # The suite activates the same test professionals' e-CPS over and over; the
            # activation throttles are tested with their defaults in tests/means/ecps/.
            "ecps_activations_per_national_id": 0,
            "ecps_activations_per_ip": 0,
            # Nor may its many deliberate failures lock a shared client or professional: the
            # limits and lockouts are tested with their defaults in tests/defend/.
            **{name: "0" for name in RATE_LIMIT_SETTINGS},
            "lockout_enabled": False,
            # Nor does the request journal record every request of the suite (or send the
            # plain UserInfo and introspection to Flask): tests/devtools/journal/ turn it on.
            "request_journal": False,
            # Nor error scenarios (on by default in development mode): they keep every request
            # in Flask, and the workers' shortcut is tested here; tests/devtools/scenarios/
            # turns them on.
            "scenarios": False,
            **overrides,
        }
        app = create_app_for_tests(settings)
        return app

    return build


RATE_LIMIT_SETTINGS = [setting for setting, _, _ in LIMITS.values()]


def create_app_for_tests(settings: dict[str, Any]) -> Flask:
    from psc_idp import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def clients(app: Flask) -> TestClients:
    """Registered test clients (confidential, public, private_key_jwt…), created once."""
    return TestClients.ensure(app)


@pytest.fixture
def browser(app: Flask) -> Browser:
    """A professional's browser (cookies kept between requests)."""
    return Browser(app)
