"""``psc-idp purge``: delete what has outlived its use, every package's rules (run it from cron)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from psc_idp.cli.output import emit
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.purge import purge_all


@click.command("purge")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def purge(as_json: bool) -> None:
    """Supprimer ce qui a expiré ou fini de servir (jetons, connexions, demandes, journaux…)."""
    try:
        counts = purge_all(current_settings())  # one transaction: all or nothing
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    emit(counts, as_json)
