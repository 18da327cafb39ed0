"""Prepared reads, writes and inserts answer exactly as SQLAlchemy does, on SQLite and PostgreSQL:
same rows, same Python values (aware datetimes, decoded JSON, booleans), for every statement
of the hot paths."""

from __future__ import annotations

import gc
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.exc import DBAPIError

from psc_idp import lockout
from psc_idp.directory import reading
from psc_idp.extensions import db
from psc_idp.http.unavailable import is_outage
from psc_idp.login import headless, sessions
from psc_idp.means.ecps import authenticator as ecps
from psc_idp.means.ecps import pushes
from psc_idp.prepared_sql import PreparedInsert, PreparedRead, PreparedWrite, Record, insert_new
from psc_idp.protocol import lookups, tokens
from psc_idp.protocol.ciba import grant as ciba_grant
from psc_idp.protocol.models import Grant
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.tokens import decode_access_token
from psc_idp.timeutil import now
from tests.helpers import DOCTOR, decode, login_and_get_tokens


@pytest.fixture
def issued(app, clients, browser):
    """Tokens of a real login (a professional's access and refresh tokens, its SSO session)."""
    tokens = login_and_get_tokens(app, browser, clients.web)
    return tokens


def _cases(issued: dict) -> list[tuple[str, PreparedRead, dict]]:
    jti = decode(issued["access_token"])["jti"]
    refresh_hash = hash_secret(issued["refresh_token"], "refresh")
    person = reading.read_practitioner(DOCTOR)
    grant_id = db.session.scalar(select(Grant.id).where(Grant.national_id == DOCTOR).limit(1))
    return [
        ("client", lookups._CLIENT_BY_ID, {"client_id": "demo-web"}),
        ("client unknown", lookups._CLIENT_BY_ID, {"client_id": "nobody"}),
        ("access", lookups._ACCESS_BY_JTI, {"jti": jti}),
        ("access with client", lookups._ACCESS_WITH_CLIENT, {"jti": jti}),
        ("refresh", lookups._REFRESH_BY_HASH, {"token_hash": refresh_hash}),
        ("refresh with grant", lookups._REFRESH_WITH_GRANT, {"token_hash": refresh_hash}),
        ("identity", reading._IDENTITY, {"national_id": DOCTOR}),
        ("other ids", reading._OTHER_IDS, {"practitioner_id": person.id}),
        ("active", reading._ACTIVE, {"national_id": DOCTOR}),
        ("scenario", pushes._SCENARIO, {"national_id": DOCTOR}),
        ("pending pushes", pushes._LIVE_PENDING, {"national_id": DOCTOR, "moment": now()}),
        ("session", sessions._LIFETIME, {"sid": issued["session_state"]}),
        ("grant scope", tokens._GRANT_SCOPE, {"grant_id": grant_id}),
        ("lockout", lockout._STATE, {"kind": lockout.CLIENT, "subject": "demo-web"}),
        # The rows loaded as ORM instances (prepared_load.py), by their prepared reads.
        ("ciba request", ciba_grant._BY_HASH._read, {"auth_req_hash": "none"}),
        ("headless login", headless._BY_ID._read, {"login_id": "none"}),
        ("latest push", ecps._LATEST_PUSH._read, {"subject_ref": "none", "kind": "ciba"}),
    ]


def test_every_prepared_read_of_the_code_is_checked_here(app_context, issued):
    checked = {id(prepared) for _, prepared, _ in _cases(issued)}
    prepared = [o for o in gc.get_objects() if isinstance(o, PreparedRead)]
    unchecked = [p.statement for p in prepared if id(p) not in checked]
    assert prepared and not unchecked, f"add these to _cases: {unchecked}"


def test_prepared_reads_answer_as_sqlalchemy(app_context, issued):
    connection = db.session.connection()
    for name, prepared, params in _cases(issued):
        expected = [tuple(row) for row in connection.execute(prepared.statement, params)]
        got = [tuple(row) for row in prepared.all(connection, **params)]
        assert got == expected, name
        first = prepared.first(connection, **params)
        assert (tuple(first) if first is not None else None) == (
            expected[0] if expected else None
        ), name
        if expected:  # same Python types, column by column (aware datetimes, JSON, bools)
            assert [type(v) for v in got[0]] == [type(v) for v in expected[0]], name
    found = [name for name, read, params in _cases(issued) if read.first(connection, **params)]
    # The data was there: these cases read real rows, not only empty answers.
    assert {"client", "access", "refresh with grant", "identity", "session", "grant scope"} <= set(
        found
    )


def test_records_read_by_attribute_and_mapping(app_context, issued):
    row = lookups._CLIENT_BY_ID.first(db.session.connection(), client_id="demo-web")
    assert isinstance(row, Record)
    assert row.client_id == "demo-web" == row._mapping["client_id"]
    assert isinstance(row.redirect_uris, list)
    assert row.created_at.tzinfo is not None
    with pytest.raises(AttributeError):
        _ = row.no_such_column


def test_a_column_named_like_a_tuple_method_is_refused(app_context):
    table = Table("t_clash", MetaData(), Column("count", Integer))
    with pytest.raises(ValueError, match="count"):
        PreparedRead(select(table.c.count)).first(db.session.connection())


def test_prepared_insert_writes_what_a_core_insert_writes(app_context, clients):
    grant_id = str(uuid.uuid4())
    moment = now() - timedelta(seconds=5)
    PreparedInsert(
        Grant.__table__, ("id", "client_id", "national_id", "scope", "created_at", "auth_time")
    ).execute(
        db.session.connection(),
        id=grant_id,
        client_id="demo-web",
        national_id=None,
        scope="openid",
        created_at=moment,
        auth_time=None,
    )
    row = db.session.get(Grant, grant_id)
    assert (row.client_id, row.national_id, row.scope, row.created_at) == (
        "demo-web",
        None,
        "openid",
        moment,
    )
    db.session.rollback()
    assert db.session.get(Grant, grant_id) is None  # in the session's transaction


def test_prepared_insert_refuses_to_skip_a_column_with_a_default():
    table = Table(
        "t_defaults",
        MetaData(),
        Column("id", String, primary_key=True),
        Column("made", String, default="x"),
    )
    with pytest.raises(ValueError, match="made"):
        PreparedInsert(table, ("id",))


def test_access_token_state_reads_through_the_prepared_statement(app_context, issued):
    claims = decode_access_token(issued["access_token"])
    state = lookups.access_token_state(claims["jti"])
    assert state is not None and state.family.national_id == DOCTOR
    assert state.expires_at > now()


def test_insert_new_writes_the_row_a_flush_would_write(app_context):
    from psc_idp.means.ecps.models import EcpsPush

    expires = now() + timedelta(minutes=2)

    def push(push_id: str) -> EcpsPush:
        return EcpsPush(id=push_id, national_id=DOCTOR, kind="ciba", expires_at=expires)

    flushed, direct = push(str(uuid.uuid4())), push(str(uuid.uuid4()))
    db.session.add(flushed)
    db.session.flush()
    insert_new(direct, db.session)
    # The model's defaults were applied (and are readable on the instance).
    assert direct.status == "pending" and direct.client_id == "" and direct.created_at
    table = EcpsPush.__table__
    rows = {
        row.id: row._mapping
        for row in db.session.connection().execute(
            select(table).where(table.c.id.in_([flushed.id, direct.id]))
        )
    }
    ignored = {"id", "created_at"}
    assert {k: v for k, v in rows[direct.id].items() if k not in ignored} == {
        k: v for k, v in rows[flushed.id].items() if k not in ignored
    }
    # In the session as a saved row: a change is an UPDATE, not a second INSERT.
    assert direct in db.session and direct not in db.session.new
    direct.binding_message = "changed"
    db.session.flush()
    assert (
        db.session.connection()
        .execute(select(table.c.binding_message).where(table.c.id == direct.id))
        .scalar_one()
        == "changed"
    )
    db.session.rollback()


def _write_cases(issued: dict) -> list[tuple[str, PreparedWrite, dict, Any]]:
    """Each prepared write of the code, its parameters, and the read of what it changed."""
    from psc_idp.means.ecps.models import EcpsPushGate
    from psc_idp.protocol.ciba import approval
    from psc_idp.protocol.grants import refresh_token
    from psc_idp.protocol.models import RefreshToken

    moment = now().replace(microsecond=0)
    refresh_hash = hash_secret(issued["refresh_token"], "refresh")
    sid = issued["session_state"]
    dialect = db.session.connection().dialect.name
    return [
        (
            "session kept alive",
            sessions._TOUCH,
            {"sid": sid, "seen": moment},
            select(sessions.SsoSession.last_seen_at).where(sessions.SsoSession.id == sid),
        ),
        (
            "refresh token used",
            refresh_token._MARK_USED,
            {"hashed": refresh_hash, "used": moment},
            select(RefreshToken.used_at).where(RefreshToken.token_hash == refresh_hash),
        ),
        (
            "e-CPS gate",
            pushes._gate_upsert(dialect),
            {"national_id": DOCTOR, "moment": moment},
            select(EcpsPushGate.last_push_at).where(EcpsPushGate.national_id == DOCTOR),
        ),
        ("CIBA poll", approval._POLLED, {"request_id": "none", "at": moment}, None),
        (
            "CIBA slowed",
            approval._SLOWED,
            {"request_id": "none", "at": moment, "new_interval": 10},
            None,
        ),
    ]


def test_every_prepared_write_of_the_code_is_checked_here(app_context, issued):
    checked = {id(prepared) for _, prepared, _, _ in _write_cases(issued)}
    prepared = [o for o in gc.get_objects() if isinstance(o, PreparedWrite)]
    unchecked = [p.statement for p in prepared if id(p) not in checked]
    assert prepared and not unchecked, f"add these to _write_cases: {unchecked}"


def test_prepared_writes_change_what_sqlalchemy_changes(app_context, issued):
    """Each write, run prepared then through SQLAlchemy in a rolled-back copy of the same
    state: the same number of rows changed, the same values read back (aware datetimes)."""
    for name, prepared, params, read in _write_cases(issued):
        connection = db.session.connection()
        nested = connection.begin_nested()
        changed = prepared.execute(connection, **params)
        got = connection.execute(read).all() if read is not None else None
        nested.rollback()
        nested = connection.begin_nested()
        expected_changed = connection.execute(prepared.statement, params).rowcount
        expected = connection.execute(read).all() if read is not None else None
        nested.rollback()
        if expected_changed != -1:  # psycopg's driver says -1 for an upsert: the read decides
            assert changed == expected_changed, name
        assert got == expected, name
        if read is not None:
            assert changed == 1 and got[0][0] == params.get(
                "seen", params.get("used", params.get("moment"))
            ), name


def test_a_connection_closed_under_the_pool_is_an_outage_for_every_prepared_kind(app_context):
    """A server that went away leaves the pool's connection closed: the driver then fails at
    ``cursor()`` already. Every prepared statement raises SQLAlchemy's error, the connection
    invalidated, so that the error handler answers 503 (not 500) and the pool reconnects."""
    table = Table("prepared_closed", MetaData(), Column("id", Integer, primary_key=True))
    attempts = [
        ("read", lambda c: PreparedRead(select(table.c.id)).first(c)),
        ("write", lambda c: PreparedWrite(table.delete()).execute(c)),
        ("insert", lambda c: PreparedInsert(table, ("id",)).execute(c, id=1)),
    ]
    for name, attempt in attempts:
        connection = db.session.connection()
        connection.connection.dbapi_connection.close()
        with pytest.raises(DBAPIError) as raised:
            attempt(connection)
        assert raised.value.connection_invalidated, name
        assert is_outage(raised.value), name
        db.session.rollback()
        # The pool hands out a working connection afterwards.
        assert db.session.connection().exec_driver_sql("SELECT 1").scalar() == 1, name
