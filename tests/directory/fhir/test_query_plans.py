"""Reads by id and identifier searches use indexes only: no query they run scans a directory
table, whatever its size (SQLite's plans; PostgreSQL picks scans on small tables by cost)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db


@contextmanager
def statements(app: Flask) -> Iterator[list[tuple[str, object]]]:
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def scans(app: Flask, seen: list[tuple[str, object]]) -> list[str]:
    found = []
    with app.app_context(), db.engine.connect() as connection:
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            for row in plan:
                detail = row[-1]
                # dir_api_key: a handful of rows, looked up by its unique hash anyway.
                if detail.startswith("SCAN dir_") and "dir_api_key" not in detail:
                    found.append(f"{detail}  <-  {statement.splitlines()[0]}")
    return found


@pytest.fixture
def sqlite_only(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("query plans are read with SQLite's EXPLAIN QUERY PLAN")


def test_reads_and_identifier_searches_never_scan(
    app: Flask, client: FlaskClient, sqlite_only: None
) -> None:
    with app.app_context():
        person_id = db.session.scalar(
            select(Practitioner.id).where(Practitioner.national_id == "899700427885")
        )
    urls = [
        f"/fhir/v1/Practitioner/{person_id}",
        "/fhir/v1/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|899700427885",
        "/fhir/v1/Practitioner?identifier=https://rpps.esante.gouv.fr|99700427885",
        "/fhir/v1/Practitioner?identifier=899700427885&_revinclude=PractitionerRole:practitioner",
        f"/fhir/v1/PractitionerRole/{person_id}-0-1",
        f"/fhir/v1/PractitionerRole?practitioner={person_id}&_include=*",
        "/fhir/v1/Organization/F0B0193488",
        "/fhir/v1/Organization?identifier=urn:oid:1.2.250.1.71.4.2.2|10B0193488",
    ]
    for url in urls:
        with statements(app) as seen:
            assert client.get(url).status_code == 200, url
        assert seen, url
        assert scans(app, seen) == [], url


def test_a_name_search_does_scan(app: Flask, client: FlaskClient, sqlite_only: None) -> None:
    # The check above would see a scan: names have no index.
    with statements(app) as seen:
        assert client.get("/fhir/v1/Practitioner?family=DOC").status_code == 200
    assert any("dir_practitioner" in line for line in scans(app, seen))
