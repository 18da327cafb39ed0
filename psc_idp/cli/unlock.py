"""``psc-idp unlock``: lift brute-force lockouts (``psc_idp.lockout``), or list them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from psc_idp import lockout
from psc_idp.cli.output import emit, fail
from psc_idp.extensions import db
from psc_idp.timeutil import iso_utc


@click.command("unlock")
@click.option("--national-id", help="Déverrouiller ce professionnel (identifiant national).")
@click.option("--client", "client_id", help="Déverrouiller ce client (client_id).")
@click.option("--all", "everything", is_flag=True, help="Tout déverrouiller.")
@click.option("--list", "listing", is_flag=True, help="Lister les verrouillages en cours.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def unlock(
    national_id: str | None,
    client_id: str | None,
    everything: bool,
    listing: bool,
    as_json: bool,
) -> None:
    """Lever un verrouillage (essais infructueux) ou lister ceux en cours."""
    chosen = [bool(national_id), bool(client_id), everything, listing]
    if sum(chosen) != 1:
        fail("Indiquez exactement une option : --national-id, --client, --all ou --list.")
    if listing:
        emit([_describe(row) for row in lockout.listing()], as_json)
        return
    if everything:
        removed = lockout.unlock()
    elif national_id:
        removed = lockout.unlock(lockout.PROFESSIONAL, national_id)
    else:
        removed = lockout.unlock(lockout.CLIENT, client_id)
    db.session.commit()
    emit({"unlocked": removed}, as_json)


def _describe(row: lockout.Lockout) -> dict[str, object]:
    return {
        "kind": row.kind,
        "subject": row.subject,
        "failures": row.failures,
        "lockouts": row.lockouts,
        "permanent": row.permanent,
        "locked_until": iso_utc(row.locked_until) if row.locked_until else None,
        "last_failure_at": iso_utc(row.last_failure_at),
        "last_source": row.last_source,
    }
