"""``psc-idp requests CLIENT [--follow] [--json] [--limit N]``: a client's journal."""

from __future__ import annotations

import json
import time

import click
from flask.cli import with_appcontext

from psc_idp.cli.output import fail
from psc_idp.config import current_settings
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.devtools.journal.reading import (
    as_document,
    entries_after,
    labelled_checks,
    outcome,
    when,
)
from psc_idp.extensions import db
from psc_idp.protocol.models import Client

#: ``--interval`` bounds: often enough to follow a login, rarely enough to cost nothing.
MIN_INTERVAL, MAX_INTERVAL = 0.2, 10.0


@click.command("requests")
@click.argument("client_id")
@click.option("--follow", "-f", is_flag=True, help="Continuer d'afficher les nouvelles requêtes.")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON par requête.")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(MIN_INTERVAL, MAX_INTERVAL),
    help="Secondes entre deux lectures (--follow).",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(0, None),
    envvar="PSC_REQUESTS_MAX_SECONDS",
    help="Arrêter --follow après ce délai (scripts, tests).",
)
@with_appcontext
def requests_command(
    client_id: str,
    follow: bool,
    as_json: bool,
    limit: int,
    interval: float,
    max_seconds: float | None,
) -> None:
    """Afficher le journal des requêtes d'un client (la plus récente en dernier)."""
    if db.session.get(Client, client_id) is None:
        fail(f"client inconnu : {client_id}")
    if not current_settings().journal_on:
        click.echo(
            "Journal des requêtes désactivé (PSC_REQUEST_JOURNAL=0) : rien n'est enregistré.",
            err=True,
        )
    last = _print(entries_after(client_id, 0, limit), as_json, 0)
    if not follow:
        return
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            db.session.remove()  # a fresh transaction: the rows other processes committed
            time.sleep(interval if deadline is None else min(interval, _left(deadline)))
            last = _print(entries_after(client_id, last, 1000), as_json, last)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the follow, not with a traceback
    finally:
        db.session.remove()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _print(entries: list[JournalEntry], as_json: bool, last: int) -> int:
    for entry in entries:
        if as_json:
            click.echo(json.dumps(as_document(entry), ensure_ascii=False))
        else:
            click.echo(human(entry))
        last = max(last, entry.id)
    return last


def human(entry: JournalEntry) -> str:
    lines = [
        f"{when(entry)}  {entry.kind:<13} {entry.method} {entry.path}"
        f"  → {entry.status} {outcome(entry)}"
    ]
    sent = {**(entry.sent or {}).get("query", {}), **(entry.sent or {}).get("form", {})}
    if sent:
        lines.append("  envoyé : " + " ".join(f"{k}={v}" for k, v in sent.items()))
    for check in labelled_checks(entry):
        word = "refus" if check["refusal"] else "avertissement"
        lines.append(f"  {word} : {check['fr']} / {check['en']}")
    return "\n".join(lines)
