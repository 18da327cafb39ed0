"""``psc-idp purge``: delete expired codes, tokens, logins and sessions (run it from cron)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from psc_idp.cli.output import emit
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.purge import purge_login
from psc_idp.means.fido.purge import purge_fido
from psc_idp.protocol.purge import purge_protocol


@click.command("purge")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def purge(as_json: bool) -> None:
    """Supprimer ce qui a expiré (codes, jetons, connexions, sessions)."""
    settings = current_settings()
    counts = {**purge_protocol(settings), **purge_fido(), **purge_login(settings)}
    db.session.commit()
    emit(counts, as_json)
