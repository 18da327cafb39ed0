"""``psc-idp audit``: the audit trail, filtered; JSON lines (``--json``) for an export."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from psc_idp.audit.query import as_dict, events, parse_since
from psc_idp.timeutil import local_display


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError:
        raise click.BadParameter(
            "une durée (10m, 2h, 7d) ou une date ISO (2026-12-01T08:00)"
        ) from None


@click.command("audit")
@click.option("--national-id", help="Identifiant national du professionnel.")
@click.option("--client", "client_id", help="Identifiant du client (service).")
@click.option(
    "--since",
    callback=_since,
    help="Depuis une durée (10m, 2h, 7d) ou une date ISO, heure de Paris sans décalage.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Au plus N événements.")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON par événement.")
@with_appcontext
def audit_command(
    national_id: str | None, client_id: str | None, since, limit: int | None, as_json: bool
) -> None:
    """Afficher le journal d'audit (connexions, jetons, révocations, déconnexions…)."""
    for event in events(national_id, client_id, since, limit):
        if as_json:
            click.echo(json.dumps(as_dict(event), ensure_ascii=False, separators=(",", ":")))
            continue
        columns = (
            local_display(event.created_at, "%Y-%m-%d %H:%M:%S"),
            event.event,
            event.national_id or "-",
            event.client_id or "-",
            event.means or "-",
            event.acr or "-",
            event.outcome or "-",
            event.ip or "-",
        )
        click.echo("  ".join(columns))
