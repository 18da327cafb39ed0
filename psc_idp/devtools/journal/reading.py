"""Reading the journal back: a client's entries, the clients that have some, the labels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from psc_idp.devtools.journal.checks import label
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.extensions import db
from psc_idp.timeutil import local_display


def entries_after(client_id: str, after_id: int = 0, limit: int = 50) -> list[JournalEntry]:
    """The newest ``limit`` entries of the client with an id above ``after_id``, oldest first."""
    rows = db.session.scalars(
        select(JournalEntry)
        .where(JournalEntry.client_id == client_id, JournalEntry.id > after_id)
        .order_by(JournalEntry.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def counts_by_client() -> dict[str, int]:
    rows = db.session.execute(
        select(JournalEntry.client_id, func.count()).group_by(JournalEntry.client_id)
    ).all()
    return {client_id: count for client_id, count in rows}


def labelled_checks(entry: JournalEntry) -> list[dict[str, Any]]:
    """Each check with its French and English labels."""
    return [
        {
            "code": check["code"],
            "refusal": bool(check.get("refusal")),
            "fr": label(check["code"]).french,
            "en": label(check["code"]).english,
        }
        for check in entry.checks or []
    ]


def as_document(entry: JournalEntry) -> dict[str, Any]:
    """One entry as ``--json`` prints it (a JSON line)."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "client_id": entry.client_id,
        "kind": entry.kind,
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "sent": entry.sent,
        "answer": entry.answer,
        "checks": labelled_checks(entry),
    }


def outcome(entry: JournalEntry) -> str:
    """The answer in a few words: the error and its description, or the success's summary."""
    answer = entry.answer or {}
    if answer.get("error"):
        description = answer.get("error_description")
        return f"{answer['error']} ({description})" if description else str(answer["error"])
    if answer.get("page"):
        description = answer.get("error_description")
        return f"page « {answer['page']} »" + (f" ({description})" if description else "")
    summary = answer.get("summary") or {}
    return ", ".join(f"{k}={_short(v)}" for k, v in summary.items()) or "—"


def _short(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def when(entry: JournalEntry) -> str:
    return local_display(entry.at, "%d/%m/%Y %H:%M:%S")
