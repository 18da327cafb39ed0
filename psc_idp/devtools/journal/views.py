"""``/dev/requests``: the journal in the browser (development mode only: the blueprint is not
registered otherwise, so both pages are 404)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.devtools.journal.reading import (
    counts_by_client,
    entries_after,
    labelled_checks,
    outcome,
    when,
)
from psc_idp.extensions import db
from psc_idp.protocol.clients import all_clients
from psc_idp.protocol.models import Client

bp = Blueprint("dev_journal", __name__, url_prefix="/dev/requests")
#: Entries shown on a client's page (the cap may keep more).
SHOWN = 200


@bp.get("")
def clients() -> ResponseReturnValue:
    counts = counts_by_client()
    rows = [(client, counts.get(client.client_id, 0)) for client in all_clients()]
    return render_template(
        "journal/clients.html",
        rows=rows,
        journal_on=current_settings().journal_on,
        dev_mode=True,
    )


@bp.get("/<path:client_id>")
def client_entries(client_id: str) -> ResponseReturnValue:
    client = db.session.get(Client, client_id)
    if client is None:
        abort(404)
    entries = list(reversed(entries_after(client_id, 0, SHOWN)))  # newest first
    shown = [
        {
            "entry": entry,
            "when": when(entry),
            "outcome": outcome(entry),
            "checks": labelled_checks(entry),
            "sent": json.dumps(entry.sent, ensure_ascii=False, indent=2),
            "answer": json.dumps(entry.answer, ensure_ascii=False, indent=2),
        }
        for entry in entries
    ]
    return render_template(
        "journal/client.html",
        client=client,
        shown=shown,
        journal_on=current_settings().journal_on,
        dev_mode=True,
    )
