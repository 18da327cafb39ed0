"""A database that answers but cannot store (disk full, read-only) is a 503 with a message
that says so, on the protocol (RFC error JSON) and in the browser (a French page), never a
500. As root a ``chmod 0400`` does not stop writes, and a mount cannot be made read-only while
the database is open: a read-only file is simulated with SQLite's ``query_only`` pragma
(SQLITE_READONLY). A full disk is real in tests/http/test_disk_full.py (a small tmpfs filled
up); here SQLite's two errors are only built, to check how they are told apart from a bug."""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.http.unavailable import is_outage, refuses_writes
from psc_idp.realm.loader import demo_secrets
from tests.conftest import _fresh_postgres, create_app_for_tests
from tests.helpers import OIDC, basic

AUTHORIZE = {
    "response_type": "code",
    "client_id": "demo-spa",
    "redirect_uri": "http://localhost:5173/callback",
    "scope": "openid",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
}


def _app(database_url: str, keys: str):
    return create_app_for_tests(
        {"database_url": database_url, "keys_dir": keys, "dev_mode": True, "realm_file": ""}
    )


def _assert_writes_refused(app) -> None:
    http = app.test_client()
    form = {"grant_type": "client_credentials"}
    with app.app_context():
        secret = demo_secrets(current_settings())["demo-web"]
    protocol = http.post(f"{OIDC}/token", data=form, headers=basic("demo-web", secret))
    assert protocol.status_code == 503, protocol.get_data(as_text=True)
    assert protocol.headers["Retry-After"].isdigit()
    body = protocol.get_json()
    assert body["error"] == "temporarily_unavailable"
    page = http.get("/wallet/auth", query_string=AUTHORIZE)  # starts a login: a write
    assert page.status_code == 503, page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert "lecture seule" in page.get_data(as_text=True)


def _on_every_connection(app, pragma: str) -> None:
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def refuse(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute(pragma)
            cursor.close()

        engine.dispose()  # the pooled connections were opened without it


def test_sqlite_read_only_simulated_by_query_only_is_503_with_a_clear_message(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'psc-idp.sqlite3'}", str(tmp_path / "keys"))
    _on_every_connection(app, "PRAGMA query_only = ON")
    _assert_writes_refused(app)


@pytest.mark.parametrize(
    "message",
    ["database or disk is full", "attempt to write a readonly database"],
)
def test_sqlite_refusal_errors_are_told_apart_from_a_bug(message):
    # SQLite's own errors, built (a real full disk: tests/http/test_disk_full.py).
    error = OperationalError("INSERT …", {}, sqlite3.OperationalError(message))
    assert refuses_writes(error) and is_outage(error)
    assert not refuses_writes(IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE")))


@pytest.mark.skipif(not os.environ.get("PSC_TEST_BASE_DATABASE_URL"), reason="PostgreSQL only")
def test_postgresql_read_only_is_503_with_a_clear_message(tmp_path):
    url = _fresh_postgres(os.environ["PSC_TEST_BASE_DATABASE_URL"], "readonly")
    app = _app(url, str(tmp_path))
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    with app.app_context():
        db.engine.dispose()
    try:
        _assert_writes_refused(app)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()
