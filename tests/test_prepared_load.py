"""A row loaded by a prepared read is the instance the ORM's query would give: the same values,
the session's own instance when it holds one, a clean persistent object whose later changes
are flushed as an ``UPDATE``; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, inspect, select

from psc_idp.extensions import db
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.prepared_load import PreparedLoad
from psc_idp.timeutil import now


# Made per test, not kept by the module: the code's own prepared reads are all checked in
# test_prepared_sql.py, which finds every one alive.
def _by_id() -> PreparedLoad[LoginTransaction]:
    return PreparedLoad(LoginTransaction, lambda t: t.c.id == bindparam("login_id"))


def _newest_of_client() -> PreparedLoad[LoginTransaction]:
    return PreparedLoad(
        LoginTransaction,
        lambda t: t.c.client_id == bindparam("client_id"),
        order_by=lambda t: t.c.expires_at.desc(),
    )


def _transaction(client_id: str, expires_in: int = 300) -> LoginTransaction:
    return LoginTransaction(
        id=str(uuid.uuid4()),
        client_id=client_id,
        params={"channel": "MOBILE", "nested": {"é": [1, 2]}},
        browser_hash="",
        csrf_token="csrf",
        acceptable_acrs=["eidas1"],
        status=LoginStatus.PENDING,
        failures=0,
        expires_at=now() + timedelta(seconds=expires_in),
    )


@pytest.fixture
def stored(app_context):
    client_id = f"load-{uuid.uuid4().hex[:8]}"
    older, newer = _transaction(client_id, 60), _transaction(client_id, 600)
    db.session.add_all([older, newer])
    db.session.commit()
    ids = (older.id, newer.id)
    db.session.expunge_all()
    yield client_id, ids
    db.session.rollback()
    for login_id in ids:
        db.session.delete(db.session.get(LoginTransaction, login_id))
    db.session.commit()


def _columns(tx: LoginTransaction) -> dict:
    return {attr.key: getattr(tx, attr.key) for attr in inspect(LoginTransaction).column_attrs}


def test_the_same_values_as_the_orm(stored):
    client_id, (older, newer) = stored
    loaded = _columns(_by_id().first(db.session, login_id=newer))
    db.session.expunge_all()
    assert loaded == _columns(db.session.get(LoginTransaction, newer))
    assert loaded["expires_at"].tzinfo is not None and loaded["params"]["nested"] == {"é": [1, 2]}
    db.session.expunge_all()
    assert _newest_of_client().first(db.session, client_id=client_id).id == newer
    assert _by_id().first(db.session, login_id="nobody") is None


def test_the_sessions_own_instance_with_its_changes(stored):
    _, (older, _) = stored
    held = db.session.get(LoginTransaction, older)
    held.failures = 3  # not flushed yet
    db.session.autoflush = False
    try:
        assert _by_id().first(db.session, login_id=older) is held
    finally:
        db.session.autoflush = True


def test_a_loaded_row_is_clean_and_its_changes_are_saved(stored):
    _, (older, _) = stored
    tx = _by_id().first(db.session, login_id=older)
    state = inspect(tx)
    assert state.persistent and not db.session.dirty and not db.session.new
    tx.failures = 2
    db.session.commit()
    db.session.expunge_all()
    assert (
        db.session.scalar(select(LoginTransaction.failures).where(LoginTransaction.id == older))
        == 2
    )
    db.session.refresh(_by_id().first(db.session, login_id=older))  # refresh works on it


def test_pending_changes_are_flushed_first_as_the_orms_query_would(stored):
    client_id, _ = stored
    newest = _transaction(client_id, 6000)
    db.session.add(newest)
    assert _newest_of_client().first(db.session, client_id=client_id) is newest
    db.session.rollback()
