"""Database schema migrations (Alembic), applied at start unless ``PSC_AUTO_MIGRATE=0``
(then ``psc-idp db upgrade`` applies them)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from psc_idp.extensions import db

HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def upgrade_database(revision: str = "head") -> None:
    """Bring the schema to ``revision`` on the application's engine."""
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    """The newest revision this code ships (read from the scripts, once per call)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(connection: Connection) -> bool:
    return database_revision(connection) == head_revision()
