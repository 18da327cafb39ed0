"""Bounded: a cap per client held on insert (under concurrency too), an age for purge."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.devtools.journal.recording import write
from psc_idp.extensions import db
from psc_idp.timeutil import now
from tests.devtools.journal.conftest import rows
from tests.helpers import register_client, token_call


def _entry(client_id: str, n: int) -> dict:
    return {
        "client_id": client_id,
        "at": now(),
        "kind": "token",
        "method": "POST",
        "path": f"/token/{n}",
        "status": 200,
        "sent": {},
        "answer": {"status": 200},
        "checks": [],
    }


def _count(app, client_id: str) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.client_id == client_id)
        )
        db.session.remove()
    return count


def test_the_oldest_entries_are_dropped_beyond_the_cap(make_app):
    app = make_app(request_journal=True, request_journal_cap=3)
    client = register_client(app, f"cap-{uuid.uuid4().hex[:8]}", grant_types=["client_credentials"])
    other = register_client(app, f"cap-{uuid.uuid4().hex[:8]}", grant_types=["client_credentials"])
    token_call(app, other, grant_type="client_credentials")
    for _ in range(5):
        assert token_call(app, client, grant_type="client_credentials").status_code == 200
    kept = rows(app, client.client_id)
    assert len(kept) == 3
    assert [row["id"] for row in kept] == sorted(row["id"] for row in kept)
    assert _count(app, other.client_id) == 1  # another client's journal is its own


def test_the_cap_holds_under_concurrent_inserts(journal_app):
    client_id = register_client(journal_app, f"race-{uuid.uuid4().hex[:8]}").client_id
    cap, threads, each = 5, 6, 4
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def insert_some(worker: int) -> None:
        try:
            start.wait(timeout=10)
            for n in range(each):
                with journal_app.app_context():
                    write(_entry(client_id, worker * 100 + n), cap)
                    db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=insert_some, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == [] and not any(worker.is_alive() for worker in workers)
    assert _count(journal_app, client_id) == cap
    kept_ids = [row["id"] for row in rows(journal_app, client_id)]
    with journal_app.app_context():
        newest = db.session.scalar(
            select(func.max(JournalEntry.id)).where(JournalEntry.client_id == client_id)
        )
        db.session.remove()
    assert max(kept_ids) == newest


def test_purge_deletes_entries_older_than_the_age_limit(journal_app, own_client):
    for _ in range(2):
        token_call(journal_app, own_client, grant_type="client_credentials")
    old, recent = rows(journal_app, own_client.client_id)
    with journal_app.app_context():
        db.session.execute(
            update(JournalEntry)
            .where(JournalEntry.id == old["id"])
            .values(at=now() - timedelta(days=8))
        )
        db.session.commit()
        db.session.remove()
    result = journal_app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["journal_entries"] >= 1
    assert [row["id"] for row in rows(journal_app, own_client.client_id)] == [recent["id"]]
