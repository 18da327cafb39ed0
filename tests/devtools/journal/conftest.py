"""An app with the request journal on, and helpers that read a client's rows."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.extensions import db
from tests.helpers import RegisteredClient, register_client


@pytest.fixture(scope="session")
def journal_app(make_app) -> Flask:
    return make_app(request_journal=True)


@pytest.fixture
def own_client(journal_app: Flask) -> RegisteredClient:
    """A confidential client of the test's own: its journal starts empty."""
    return register_client(
        journal_app,
        f"journal-{uuid.uuid4().hex[:8]}",
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
    )


def rows(app: Flask, client_id: str) -> list[dict[str, Any]]:
    """The client's entries, oldest first, as plain values."""
    with app.app_context():
        found = db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.client_id == client_id)
            .order_by(JournalEntry.id)
        ).all()
        values = [
            {
                "id": e.id,
                "kind": e.kind,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "sent": e.sent,
                "answer": e.answer,
                "checks": e.checks,
                "at": e.at,
            }
            for e in found
        ]
        db.session.remove()
    return values


def codes(row: dict[str, Any]) -> dict[str, bool]:
    """``{check code: refusal}`` of a row."""
    return {check["code"]: check["refusal"] for check in row["checks"]}


def as_text(row: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in row.items() if k != "at"}, ensure_ascii=False)


def clear(app: Flask, client_id: str) -> None:
    with app.app_context():
        db.session.execute(delete(JournalEntry).where(JournalEntry.client_id == client_id))
        db.session.commit()
        db.session.remove()
