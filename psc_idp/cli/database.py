"""``psc-idp db``: the schema as a deployment step (``PSC_AUTO_MIGRATE=0`` on the servers)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from psc_idp.extensions import db
from psc_idp.migrations import database_revision, head_revision, upgrade_database


@click.group("db")
def db_cli() -> None:
    """Schéma de la base de données (migrations Alembic)."""


@db_cli.command("upgrade")
@with_appcontext
def upgrade() -> None:
    """Appliquer les migrations jusqu'à la dernière révision."""
    upgrade_database()
    click.echo(f"schéma à jour : révision {head_revision()}")


@db_cli.command("current")
@with_appcontext
def current() -> None:
    """Afficher la révision de la base et celle du code (code de sortie 1 si en retard)."""
    with db.engine.connect() as connection:
        at = database_revision(connection)
    head = head_revision()
    click.echo(f"base : {at or 'vide'} ; code : {head}")
    if at != head:
        raise SystemExit(1)
