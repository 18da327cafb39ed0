"""Idempotence, deltas, full files, crash and resume, rows of one person far apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from psc_idp.directory import synth
from psc_idp.directory.importers import run as run_module
from psc_idp.directory.importers import run_import
from psc_idp.directory.importers.models import ImportRun, RunStatus
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.models import Activity, Exercice, Practitioner
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.extensions import db
from tests.directory.import_files import LAYOUTS, row, rpps, write

LAYOUT = LAYOUTS["libreacces-56"]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _snapshot() -> list[tuple]:
    """Every practitioner with its rows, as stored (ids and update times included)."""
    db.session.expire_all()
    people = db.session.scalars(select(Practitioner).order_by(Practitioner.national_id))
    return [
        (
            p.id,
            p.national_id,
            p.active,
            p.updated_at,
            p.content_hash,
            [
                (e.id, e.profession, [(a.id, a.raison_sociale) for a in e.activities])
                for e in p.exercices
            ],
        )
        for p in people
    ]


def test_a_second_import_of_the_same_file_changes_nothing(app: Flask, tmp_path: Path) -> None:
    path = synth.write_file(tmp_path / "s.txt", "libreacces", 400, seed=3)
    first = run_import(path, batch_size=50)
    before = _snapshot()
    second = run_import(path, batch_size=50)
    assert (second.created, second.updated, second.deactivated) == (0, 0, 0)
    assert second.unchanged == first.created and second.rows == 400
    assert _snapshot() == before


def test_a_delta_file_updates_only_its_rows(app: Flask, tmp_path: Path) -> None:
    a, b, c = rpps(40), rpps(41), rpps(42)
    run_import(
        write(
            tmp_path / "full.txt", LAYOUT, [row(a), row(b), row(b, **{"Code savoir-faire": "SM04"})]
        )
    )
    before = {p[1]: p for p in _snapshot()}
    delta = [row(b, **{"Raison sociale site": "CABINET RENOMME"}), row(c)]
    summary = run_import(write(tmp_path / "delta.txt", LAYOUT, delta))
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 0)
    after = {p[1]: p for p in _snapshot()}
    assert after[a] == before[a]  # absent from a delta: untouched, still active
    exercices = find_practitioner(b).exercices
    assert [e.savoir_faire for e in exercices] == ["SM26"]  # the delta's rows replace b's
    assert exercices[0].activities[0].raison_sociale == "CABINET RENOMME"
    assert after[b][0] == before[b][0]  # same practitioner row, children rewritten
    assert find_practitioner(c) is not None


def test_full_deactivates_the_absent_and_a_return_reactivates(app: Flask, tmp_path: Path) -> None:
    a, b = rpps(43), rpps(44)
    upsert_practitioners(
        [{"national_id": "899700218896", "family_name": "DEMO", "given_names": ["KIT"]}]
    )
    db.session.commit()
    run_import(write(tmp_path / "1.txt", LAYOUT, [row(a), row(b)]), full=True)
    summary = run_import(write(tmp_path / "2.txt", LAYOUT, [row(a)]), full=True)
    assert (summary.unchanged, summary.deactivated) == (1, 1)
    db.session.expire_all()
    assert find_practitioner(a).active and not find_practitioner(b).active
    assert find_practitioner("899700218896").active  # from the realm file: not the directory's
    back = run_import(write(tmp_path / "3.txt", LAYOUT, [row(a), row(b)]), full=True)
    assert (back.updated, back.unchanged, back.deactivated) == (1, 1, 0)
    db.session.expire_all()
    assert find_practitioner(b).active


def test_a_full_file_without_any_accepted_row_deactivates_nobody(
    app: Flask, tmp_path: Path
) -> None:
    run_import(write(tmp_path / "1.txt", LAYOUT, [row(rpps(45))]))
    summary = run_import(write(tmp_path / "2.txt", LAYOUT, [row("8123")]), full=True)
    assert (summary.rejected, summary.deactivated) == (1, 0)
    assert find_practitioner(rpps(45)).active


def test_a_crash_mid_import_resumes_without_duplicates(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [row(rpps(100 + n), **{"Raison sociale site": f"SITE {n}"}) for n in range(30)]
    rows.insert(3, row("8BAD"))  # line 5, in the first batch
    rows.insert(25, row("8BAD2"))  # line 27, in the batch that crashes
    path = write(tmp_path / "crash.txt", LAYOUT, rows)
    real_apply, calls = run_module.apply_batch, []

    on_disk: list[str] = []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            # What a kill -9 here would leave: the rejects of the committed batches are on disk.
            on_disk.append((tmp_path / "crash.txt.rejets.txt").read_text(encoding="utf-8"))
            raise RuntimeError("power cut")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", crashing)
    with pytest.raises(RuntimeError):
        run_import(path, batch_size=10, full=True)
    assert "\n5|8BAD|" in on_disk[0]
    # Two batches of ten rows committed (one row of the first rejected), the third rolled back.
    assert _count(Practitioner) == 19
    run = db.session.scalars(select(ImportRun)).one()
    assert run.status is RunStatus.running
    reached = run.next_position
    monkeypatch.setattr(run_module, "apply_batch", real_apply)
    summary = run_import(path, batch_size=10, full=True)
    assert summary.resumed_at == reached == 22
    assert (summary.created, summary.rows, summary.rejected) == (30, 30, 2)
    assert _count(Practitioner) == 30 and _count(Exercice) == 30 and _count(Activity) == 30
    rejects = summary.rejects_path.read_text(encoding="utf-8").splitlines()[1:]
    assert [line.split("|")[0] for line in sorted(rejects)] == ["27", "5"]
    db.session.expire_all()
    assert db.session.scalars(select(ImportRun)).one().status is RunStatus.done


def test_rows_of_one_person_far_apart_are_gathered(app: Flask, tmp_path: Path) -> None:
    wanderer = rpps(60)
    rows = [row(wanderer, **{"Raison sociale site": "PREMIER"})]
    rows += [row(rpps(61 + n)) for n in range(6)]
    rows += [row(wanderer, **{"Raison sociale site": "SECOND"})]
    path = write(tmp_path / "unsorted.txt", LAYOUT, rows)
    first = run_import(path, batch_size=2)
    assert (first.created, first.merged) == (7, 1)
    sites = [a.raison_sociale for a in find_practitioner(wanderer).exercices[0].activities]
    assert sites == ["PREMIER", "SECOND"]
    again = run_import(path, batch_size=2)
    assert again.created == 0 and again.unchanged == 6
    db.session.expire_all()
    sites = [a.raison_sociale for a in find_practitioner(wanderer).exercices[0].activities]
    assert sites == ["PREMIER", "SECOND"]
    assert _count(Activity) == 8


def test_a_realm_file_edit_is_undone_by_the_next_import_of_the_file(
    app: Flask, tmp_path: Path
) -> None:
    someone = rpps(80)
    path = write(tmp_path / "f.txt", LAYOUT, [row(someone)])
    run_import(path)
    upsert_practitioners([{"national_id": someone, "family_name": "EDITED", "given_names": ["X"]}])
    db.session.commit()
    summary = run_import(path)
    assert (summary.updated, summary.unchanged) == (1, 0)
    db.session.expire_all()
    practitioner = find_practitioner(someone)
    assert practitioner.family_name == "DUPONT" and len(practitioner.exercices) == 1


def test_an_import_leaves_statistics_for_every_table_it_filled(app: Flask, tmp_path: Path) -> None:
    # PostgreSQL without autovacuum (or before it runs) would plan reads of a practitioner's
    # activities on no statistics at all: a bitmap scan expecting hundreds of rows.
    if db.engine.dialect.name != "postgresql":
        pytest.skip("statistics are PostgreSQL's (SQLite plans are checked in fhir/)")
    run_import(write(tmp_path / "s.txt", LAYOUT, [row(rpps(n)) for n in range(300, 340)]))
    analysed = db.session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
            " AND relname IN ('dir_practitioner', 'dir_exercice', 'dir_activity')"
        )
    ).scalars()
    assert sorted(analysed) == ["dir_activity", "dir_exercice", "dir_practitioner"]
