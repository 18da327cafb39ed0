"""A first import into an empty directory builds the child tables' indexes at the end: the
schema after it is the schema before, whether the run ended, stopped, or met stored persons."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text

from psc_idp.directory.importers import run as run_module
from psc_idp.directory.importers import run_import
from psc_idp.directory.importers.models import ImportRun, ImportSeen, RunStatus
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.extensions import db
from tests.directory.import_files import LAYOUTS, row, rpps, write

LAYOUT = LAYOUTS["libreacces-56"]
CHILDREN = ("dir_exercice", "dir_activity", "dir_other_id")


def _schema() -> dict[str, tuple]:
    """The child tables' indexes and foreign keys, as the database reports them."""
    db.session.commit()  # the inspector reads on a connection of its own
    inspector = inspect(db.engine)
    return {
        table: (
            sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
        )
        for table in CHILDREN
    }


def _rows(count: int, start: int = 0) -> list[dict[str, str]]:
    site = "Raison sociale site"
    return [row(rpps(500 + start + n), **{site: f"SITE {n}"}) for n in range(count)]


def test_a_first_import_leaves_the_schema_it_found(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _schema()
    assert all(indexes and foreign_keys for indexes, foreign_keys in before.values())
    during: list[dict] = []
    real_apply = run_module.apply_batch

    def watching(*args, **kwargs):
        during.append(_schema())
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", watching)
    summary = run_import(write(tmp_path / "a.txt", LAYOUT, _rows(12)), batch_size=5)
    assert summary.created == 12
    # During the run the child tables' secondary indexes were away; after it, all are back.
    assert len(during) == 3
    assert all(state[table][0] == [] for state in during for table in CHILDREN)
    assert _schema() == before
    practitioner = find_practitioner(rpps(503))
    assert practitioner.exercices[0].activities[0].raison_sociale == "SITE 3"


def test_an_import_into_a_directory_that_has_imported_rows_keeps_the_indexes(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(write(tmp_path / "a.txt", LAYOUT, _rows(3)))
    before = _schema()
    seen_during: list[dict] = []
    real_apply = run_module.apply_batch

    def watching(*args, **kwargs):
        seen_during.append(_schema())
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", watching)
    summary = run_import(write(tmp_path / "b.txt", LAYOUT, _rows(3, start=10)))
    assert summary.created == 3
    assert seen_during == [before]


def test_a_stopped_first_import_is_resumed_then_the_indexes_are_back(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _schema()
    path = write(tmp_path / "a.txt", LAYOUT, _rows(20))
    real_apply, calls = run_module.apply_batch, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", crashing)
    with pytest.raises(RuntimeError):
        run_import(path, batch_size=5)
    assert _schema() != before  # what a killed import leaves until it is run again
    monkeypatch.setattr(run_module, "apply_batch", real_apply)
    summary = run_import(path, batch_size=5)
    assert summary.resumed_at is not None and summary.created == 20
    assert _schema() == before


def test_another_file_imported_after_a_stopped_run_restores_the_indexes(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _schema()
    real_apply = run_module.apply_batch

    def failing(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "apply_batch", failing)
    with pytest.raises(RuntimeError):
        run_import(write(tmp_path / "a.txt", LAYOUT, _rows(4)))
    monkeypatch.setattr(run_module, "apply_batch", real_apply)
    assert _schema() != before
    run_import(write(tmp_path / "b.txt", LAYOUT, _rows(2, start=30)))
    assert _schema() == before


def test_persons_far_apart_in_a_first_import_are_merged_through_the_indexes(
    app: Flask, tmp_path: Path
) -> None:
    before = _schema()
    wanderer = rpps(560)
    rows = [row(wanderer, **{"Raison sociale site": "PREMIER"}), *_rows(4, start=70)]
    rows.append(row(wanderer, **{"Raison sociale site": "SECOND"}))
    summary = run_import(write(tmp_path / "u.txt", LAYOUT, rows), batch_size=2)
    assert (summary.created, summary.merged) == (5, 1)
    sites = [a.raison_sociale for a in find_practitioner(wanderer).exercices[0].activities]
    assert sites == ["PREMIER", "SECOND"]
    assert _schema() == before


def test_a_realm_file_practitioner_in_a_first_import_is_rewritten(
    app: Flask, tmp_path: Path
) -> None:
    someone = rpps(580)
    upsert_practitioners([{"national_id": someone, "family_name": "REALM", "given_names": ["A"]}])
    db.session.commit()
    before = _schema()
    summary = run_import(write(tmp_path / "r.txt", LAYOUT, [row(someone), *_rows(3, start=90)]))
    assert (summary.created, summary.updated) == (3, 1)
    db.session.expire_all()
    assert find_practitioner(someone).exercices[0].profession == "10"
    assert _schema() == before


def test_the_seen_table_is_emptied_but_for_an_unfinished_run(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply, calls = run_module.apply_batch, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", crashing)
    with pytest.raises(RuntimeError):
        run_import(write(tmp_path / "a.txt", LAYOUT, _rows(10)), batch_size=5)
    monkeypatch.setattr(run_module, "apply_batch", real_apply)
    stopped = db.session.scalars(select(ImportRun)).one()
    assert stopped.status is RunStatus.running
    kept = db.session.scalars(select(ImportSeen.national_id)).all()
    assert len(kept) == 5
    run_import(write(tmp_path / "b.txt", LAYOUT, _rows(3, start=40)))
    # The other run's rows stay (it can still be resumed); the finished run's are gone.
    assert sorted(db.session.scalars(select(ImportSeen.national_id)).all()) == sorted(kept)
    resumed = run_import(tmp_path / "a.txt", batch_size=5)
    assert resumed.resumed_at is not None and resumed.created == 10
    assert db.session.execute(text("SELECT count(*) FROM dir_import_seen")).scalar() == 0
