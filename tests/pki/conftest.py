"""An app built by ``create_app`` with its own keys folder and database (SQLite, or a fresh
PostgreSQL database when PSC_TEST_DATABASE_URL is set), in dev mode so the demo realm (and its
inactive practitioner) is loaded. The factory does not set the PKI up yet: done here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from psc_idp.config import Settings


@pytest.fixture(scope="session")
def pki_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if base:
        from tests.conftest import _fresh_postgres

        return _fresh_postgres(base, "pki")
    return f"sqlite:///{tmp_path_factory.mktemp('pki-db') / 'psc-idp.sqlite3'}"


@pytest.fixture(scope="session")
def pki_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki-keys")


def build_app(database_url: str, keys_dir: Path) -> Flask:
    from psc_idp import create_app
    from psc_idp.cli.pki import cps_cli, pki_cli
    from psc_idp.pki import init_app

    app = create_app(
        {
            "database_url": database_url,
            "keys_dir": str(keys_dir),
            "dev_mode": True,
            "realm_file": "",
        }
    )
    app.config["TESTING"] = True
    init_app(app)
    app.cli.add_command(cps_cli)
    app.cli.add_command(pki_cli)
    return app


@pytest.fixture(scope="session")
def app(pki_database_url: str, pki_keys_dir: Path) -> Flask:
    return build_app(pki_database_url, pki_keys_dir)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def settings(app: Flask) -> Settings:
    """The app's settings; change them with ``monkeypatch.setattr(settings, …, raising=False)``
    (the ``pki_`` ones are not declared on Settings yet)."""
    return app.extensions["psc_settings"]
