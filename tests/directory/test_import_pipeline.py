"""A tabular file read by a second process: the same rows stored, the same rejects with their
line numbers, the same resume; a reading process that fails or dies fails the import, fast."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select

from psc_idp.directory import synth
from psc_idp.directory.importers import pipeline, run_import
from psc_idp.directory.importers import run as run_module
from psc_idp.directory.importers.models import ImportRun, RunStatus
from psc_idp.directory.importers.pipeline import ImportWorkerError
from psc_idp.directory.models import ACTIVITY_FIELDS, ADDRESS_FIELDS, EXERCICE_FIELDS, Practitioner
from psc_idp.extensions import db
from tests.directory.conftest import _directory_tables
from tests.directory.import_files import LAYOUTS, row, rpps, text

CIVIL = ("civility", "family_name", "given_names", "birth_date", "sex", "email", "phone")


@pytest.fixture(autouse=True)
def _database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database the reading process can open too (not SQLite in memory): it then looks up
    which persons are unchanged, as in real use."""
    if not os.environ.get("PSC_TEST_DATABASE_URL"):
        monkeypatch.setenv("PSC_TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'directory.sqlite3'}")


def _stored() -> list[tuple]:
    """Everything an import writes for each person, ids and times left out."""
    db.session.expire_all()
    people = db.session.scalars(select(Practitioner).order_by(Practitioner.national_id))
    return [
        (
            p.national_id,
            p.active,
            p.content_hash,
            tuple(getattr(p, name) for name in CIVIL),
            [
                (
                    e.position,
                    tuple(getattr(e, name) for name in EXERCICE_FIELDS),
                    [
                        (a.position, *(getattr(a, n) for n in (*ACTIVITY_FIELDS, *ADDRESS_FIELDS)))
                        for a in e.activities
                    ],
                )
                for e in p.exercices
            ],
            [(o.position, o.identifiant, o.origine, o.qualite) for o in p.other_ids],
        )
        for p in people
    ]


def _empty_directory() -> None:
    for table in reversed(_directory_tables()):
        db.session.execute(delete(table))
    db.session.commit()


def _file_with_bad_rows(path: Path, layout_name: str) -> Path:
    """Good persons of several rows, a person whose rows are far apart, and one bad row of
    each kind (national id, Luhn key, codes, civil data, column count, encoding)."""
    layout = LAYOUTS[layout_name]
    rows = []
    for n in range(40):
        rows.append(row(rpps(300 + n), **{"Raison sociale site": f"SITE {n}"}))
        rows.append(row(rpps(300 + n), **{"Code secteur d'activité": "SA01"}))
    rows.insert(5, row("8BAD"))
    rows.insert(9, row(rpps(401), **{"Code profession": "77"}))
    rows.insert(15, row(rpps(402), **{"Code postal (coord. structure)": "7" * 40}))
    rows.insert(21, row(rpps(403), **{"Code commune (coord. structure)": "PARIS"}))
    rows.insert(30, row(rpps(404), **{"Date de naissance": "31/02/1975", "Code sexe": "X"}))
    rows.insert(36, row(rpps(300), **{"Raison sociale site": "LOIN"}))  # far from its group
    rows.insert(44, row(rpps(405)[:-1] + "0"))  # wrong Luhn key
    body = text(layout, rows).encode("utf-8")
    lines = body.split(b"\n")
    lines.insert(12, b"|".join([b"8", b"99700000000", b"8\xff\xfe"] + [b""] * 53))  # not UTF-8
    lines.insert(50, b"8|99700000001|899700000001|DR")  # too few columns
    path.write_bytes(b"\n".join(lines))
    return path


@pytest.mark.parametrize("layout_name", ["libreacces-56", "psc-extract-51"])
def test_read_in_parallel_the_same_rows_and_rejects_as_in_one_process(
    app: Flask, tmp_path: Path, layout_name: str
) -> None:
    path = _file_with_bad_rows(tmp_path / "mixed.txt", layout_name)
    alone = run_import(path, batch_size=7, parallel=False)
    stored_alone = _stored()
    rejects_alone = alone.rejects_path.read_text(encoding="utf-8")
    _empty_directory()

    shared = run_import(path, batch_size=7, parallel=True)
    assert _stored() == stored_alone
    assert shared.rejects_path.read_text(encoding="utf-8") == rejects_alone
    counts = ("rows", "created", "updated", "unchanged", "rejected", "merged")
    assert [getattr(shared, n) for n in counts] == [getattr(alone, n) for n in counts]
    reasons = {line.split("|")[0]: line for line in rejects_alone.splitlines()[1:]}
    assert "encodage invalide" in reasons["13"] and "nombre de colonnes" in reasons["51"]
    assert "code profession inconnu" in reasons["11"]
    assert len(reasons) == alone.rejected >= 7

    # Again: the persons with a rejected row or rows far apart are rewritten every time.
    again = run_import(path, batch_size=7, parallel=True)
    assert again.rejects_path.read_text(encoding="utf-8") == rejects_alone
    assert _stored() == stored_alone
    again_alone = run_import(path, batch_size=7, parallel=False)
    assert [getattr(again, n) for n in counts] == [getattr(again_alone, n) for n in counts]
    assert again.created == 0 and again.unchanged >= 30 and again.updated < 10


def test_a_change_found_by_the_writer_is_checked_there(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reading process saw a stored digest equal to the row's and sent the row unchecked;
    the writer finds the person changed after all (here: deactivated) and checks it itself."""
    path = synth.write_file(tmp_path / "s.txt", "libreacces", 120, seed=5)
    first = run_import(path, parallel=True)
    db.session.execute(Practitioner.__table__.update().values(active=False))
    db.session.commit()
    monkeypatch.setattr(pipeline, "_stored_digests", lambda engine, ids: {})  # no hint at all
    again = run_import(path, parallel=True)
    assert again.updated == first.created and again.rejected == first.rejected == 0
    assert all(p[1] for p in _stored())


def test_a_crash_then_a_resume_both_read_in_parallel(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = synth.write_file(tmp_path / "s.txt", "libreacces", 300, seed=7)
    expected = run_import(path, parallel=False)
    stored = _stored()
    _empty_directory()
    real_apply, calls = run_module.apply_batch, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("power cut")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(run_module, "apply_batch", crashing)
    with pytest.raises(RuntimeError):
        run_import(path, batch_size=20, parallel=True)
    monkeypatch.setattr(run_module, "apply_batch", real_apply)
    resumed = run_import(path, batch_size=20, parallel=True)
    assert resumed.resumed_at is not None and resumed.resumed_at > 2
    assert resumed.created == expected.created and resumed.rows == expected.rows
    assert _stored() == stored


def _fail_in_reader(monkeypatch: pytest.MonkeyPatch, failure) -> None:
    """Make the reading process (a fork of this one) fail at its second chunk."""
    real_prepare, calls = pipeline._prepare, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            failure()
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_prepare", failing)
    monkeypatch.setattr(pipeline, "CHUNK", 50)


def _raise() -> None:
    raise ValueError("disque illisible")


@pytest.mark.skipif(pipeline._START_METHOD != "fork", reason="the failure is planted by fork")
@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (_raise, "la lecture du fichier a échoué : ValueError: disque illisible"),
        (lambda: os._exit(3), "le processus de lecture du fichier s'est arrêté (code 3)"),
    ],
    ids=["raises", "dies"],
)
def test_a_failing_reader_fails_the_import_at_once_and_it_resumes(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure, message: str
) -> None:
    path = synth.write_file(tmp_path / "s.txt", "libreacces", 400, seed=9)
    _fail_in_reader(monkeypatch, failure)
    started = time.monotonic()
    with pytest.raises(ImportWorkerError) as caught:
        run_import(path, batch_size=20, parallel=True)
    assert message in str(caught.value)
    assert time.monotonic() - started < 10 * pipeline.POLL_SECONDS
    run = db.session.scalars(select(ImportRun)).one()
    reached = run.next_position
    # A reader that dies at once may take its last chunk with it (never applied: no loss).
    assert run.status is RunStatus.running
    monkeypatch.undo()
    resumed = run_import(path, batch_size=20, parallel=True)
    assert resumed.resumed_at == reached
    assert resumed.rows == 400 and resumed.rejected == 0
