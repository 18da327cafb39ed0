"""A bare Flask app holding only the directory tables, on SQLite or PSC_TEST_DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from psc_idp.config import Settings
from psc_idp.directory import models  # noqa: F401  (registers the dir_ tables)
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.extensions import db

DEMO_FILE = Path(__file__).resolve().parents[2] / "psc_idp" / "realm" / "demo-practitioners.yaml"


def _directory_tables() -> list[Any]:
    # Only our tables: on a shared PostgreSQL database other packages own the rest.
    return [table for table in db.metadata.sorted_tables if table.name.startswith("dir_")]


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("PSC_TEST_DATABASE_URL", "sqlite://")
    db.init_app(app)
    app.extensions["psc_settings"] = Settings()
    with app.app_context():
        db.metadata.drop_all(db.engine, tables=_directory_tables())
        db.metadata.create_all(db.engine, tables=_directory_tables())
        try:
            yield app
        finally:
            db.session.remove()
            db.metadata.drop_all(db.engine, tables=_directory_tables())
            db.engine.dispose()


@pytest.fixture
def demo_items() -> list[dict[str, Any]]:
    return yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["practitioners"]


@pytest.fixture
def demo(app: Flask, demo_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The demo realm, imported and committed."""
    upsert_practitioners(demo_items)
    db.session.commit()
    return demo_items
