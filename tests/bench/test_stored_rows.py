"""``--stored N``: copies of the server's own rows, made in the database, keys changed only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import stored
from tests.conftest import _fresh_postgres
from tests.helpers import INTROSPECT, USERINFO, Browser, TestClients, login_and_get_tokens


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {
            t: connection.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
            for t in stored.COPIES
        }
    engine.dispose()
    return found


@pytest.fixture
def own_database(tmp_path: Path) -> str:
    # A database of its own: the extra rows must not reach the other tests' database.
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    return _fresh_postgres(base, "stored") if base else f"sqlite:///{tmp_path / 'db.sqlite3'}"


def test_fill_adds_rows_in_batches_and_the_server_still_answers(
    make_app, own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(database_url=own_database)
    clients = TestClients.ensure(app)
    tokens = login_and_get_tokens(app, Browser(app), clients.web)
    before = _counts(own_database)
    monkeypatch.setattr(stored, "BATCH", 100)  # three batches, the last one partial

    after = stored.fill(own_database, 250)

    assert after == {table: count + 250 for table, count in before.items()}
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert app.test_client().get(USERINFO, headers=bearer).status_code == 200
    headers, form = clients.web.auth()
    answer = app.test_client().post(
        INTROSPECT, data={**form, "token": tokens["access_token"]}, headers=headers
    )
    assert answer.get_json()["active"] is True
