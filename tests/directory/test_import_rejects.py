"""Bad rows go to the rejects file with their line and reason; bad files are refused whole."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from psc_idp.directory.importers import ImportFileError, run_import
from psc_idp.directory.importers.models import ImportRun
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from tests.directory.import_files import LAYOUTS, row, rpps, text, write

LAYOUT = LAYOUTS["psc-extract-51"]
GOOD = rpps(20)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _rejects(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Ligne|Identification nationale PP|Motif"
    return [line.split("|") for line in lines[1:]]


BAD_ROWS = {
    "national-id": (row("8ABC"), "Identifiant RPPS invalide"),
    "luhn-key": (row(GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10)), "clé de contrôle"),
    "profession": (row(rpps(21), **{"Code profession": "77"}), "code profession inconnu « 77 »"),
    "mode": (row(rpps(22), **{"Code mode exercice": "X"}), "code mode d'exercice inconnu"),
    "civility": (row(rpps(23), **{"Code civilité": "DR"}), "code civilité inconnu"),
    "birth-date": (row(rpps(24), **{"Date de naissance": "31/02/1990"}), "date de naissance"),
    "too-long": (row(rpps(25), **{"Code postal (coord. structure)": "7" * 40}), "trop longue"),
    "other-ids": (row(rpps(26), **{"Autres identifiants": "x,y"}), "autre identifiant"),
}


@pytest.mark.parametrize("reason", sorted(BAD_ROWS))
def test_a_bad_row_is_rejected_with_its_line_and_reason(
    app: Flask, tmp_path: Path, reason: str
) -> None:
    bad, message = BAD_ROWS[reason]
    path = write(tmp_path / "e.txt", LAYOUT, [row(GOOD), bad, row(rpps(27))])
    summary = run_import(path)
    assert (summary.created, summary.rejected) == (2, 1)
    [(line, national_id, why)] = _rejects(summary.rejects_path)
    assert line == "3" and national_id == bad["Identification nationale PP"]
    assert message in why


def _line(values: dict[str, str]) -> str:
    return text(LAYOUT, [values]).split("\n")[1]


def _raw_file(tmp_path: Path, middle: bytes) -> Path:
    good = text(LAYOUT, [row(GOOD)]).encode("utf-8")
    path = tmp_path / "raw.txt"
    path.write_bytes(
        good + middle + b"\n" + text(LAYOUT, [row(rpps(28))]).split("\n", 1)[1].encode()
    )
    return path


@pytest.mark.parametrize(
    ("middle", "message"),
    [
        ("|".join(["8", "1", rpps(29), "DUPONT"]).encode("utf-8"), "nombre de colonnes incorrect"),
        (
            _line(row(rpps(29))).replace("|DUPONT|", "|DUP|ONT|", 1).encode(),
            "nombre de colonnes incorrect : 52 au lieu de 51",
        ),
        (
            text(LAYOUT, [row(rpps(29), **{"Nom de famille": "MÜLLER"})])
            .split("\n")[1]
            .encode("latin-1"),
            "encodage invalide",
        ),
        (
            text(LAYOUT, [row(rpps(29), **{"Nom de famille": "DU\x00PONT"})])
            .split("\n")[1]
            .encode(),
            "caractère de contrôle",
        ),
    ],
    ids=["short-row", "extra-column", "latin-1", "nul-byte"],
)
def test_structural_row_problems_are_rejected_too(
    app: Flask, tmp_path: Path, middle: bytes, message: str
) -> None:
    summary = run_import(_raw_file(tmp_path, middle))
    assert (summary.created, summary.rejected) == (2, 1)
    [(line, _, why)] = _rejects(summary.rejects_path)
    assert line == "3" and message in why
    assert (
        db.session.scalar(select(Practitioner).where(Practitioner.national_id == rpps(29))) is None
    )


def _corrupt_zip(tmp_path: Path) -> Path:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("PS_LibreAcces.txt", text(LAYOUT, [row(GOOD)] * 50))
    data = bytearray(path.read_bytes())
    data[60:70] = b"\x00" * 10  # inside the compressed data: the CRC no longer matches
    path.write_bytes(bytes(data))
    return path


def _two_members(tmp_path: Path) -> Path:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", text(LAYOUT, [row(GOOD)]))
        archive.writestr("b.txt", text(LAYOUT, [row(GOOD)]))
    return path


BAD_FILES = {
    "unknown-header": (lambda p: _write(p, "Nom|Prénom|\nDUPONT|JEAN|\n"), "En-tête non reconnu"),
    "latin-1-header": (
        lambda p: _write_bytes(p, text(LAYOUT, [row(GOOD)]).encode("latin-1", "replace")),
        "pas en UTF-8",
    ),
    "empty": (lambda p: _write(p, ""), "Fichier vide"),
    "missing": (lambda p: p / "absent.txt", "Fichier introuvable"),
    "corrupt-zip": (_corrupt_zip, "Archive"),
    "two-members": (_two_members, "un seul fichier"),
    "bad-json": (lambda p: _write(p, '{"resourceType": "Bundle", '), "JSON illisible"),
}


def _write(directory: Path, content: str) -> Path:
    path = directory / "f.txt"
    path.write_text(content, encoding="utf-8")
    return path


def _write_bytes(directory: Path, content: bytes) -> Path:
    path = directory / "f.txt"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_refused_before_anything_is_written(
    app: Flask, tmp_path: Path, case: str
) -> None:
    make, message = BAD_FILES[case]
    with pytest.raises(ImportFileError, match=message):
        run_import(make(tmp_path))
    assert _count(Practitioner) == 0
    assert _count(ImportRun) == 0


def test_a_fhir_resource_without_national_id_is_rejected(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    resources = [
        {"resourceType": "Practitioner", "id": "p1", "identifier": []},
        {
            "resourceType": "Practitioner",
            "id": "p2",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": GOOD}],
        },
        {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": "Practitioner/p2"},
            "code": [{"coding": [{"system": "TRE_G15-ProfessionSante", "code": "99"}]}],
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in resources), encoding="utf-8")
    summary = run_import(path)
    rejects = _rejects(summary.rejects_path)
    assert summary.created == 0
    assert [line for line, _, _ in rejects] == ["1", "2", "2"]
    assert "identifiant national absent" in rejects[0][2]
    assert "code profession inconnu « 99 »" in rejects[1][2]
    assert "aucune situation d'exercice" in rejects[2][2]


def test_hostile_fhir_shapes_are_rejected_not_crashed_on(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    resources = [
        {
            "resourceType": "Practitioner",
            "id": "p1",
            "name": "not a list",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": rpps(30)}],
        },
        {
            "resourceType": "Practitioner",
            "id": "p2",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": GOOD}],
        },
        {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": "Practitioner/p2"},
            "organization": "Organization/x",
            "code": "10",
        },
        {"resourceType": "PractitionerRole", "practitioner": "Practitioner/p2"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in resources), encoding="utf-8")
    summary = run_import(path)
    assert summary.created == 0
    reasons = [why for _, _, why in _rejects(summary.rejects_path)]
    assert "mal formée" in reasons[0] and reasons[1].startswith("PractitionerRole : ")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ImportFileError, match="imbriqué|illisible"):
        run_import(deep)


def test_an_unwritable_rejects_file_is_refused_before_anything_is_written(
    app: Flask, tmp_path: Path
) -> None:
    path = write(tmp_path / "f.txt", LAYOUT, [row(GOOD)])
    with pytest.raises(ImportFileError, match="fichier des rejets"):
        run_import(path, rejects_path=tmp_path / "absent-folder" / "rejets.txt")
    assert _count(ImportRun) == 0 and _count(Practitioner) == 0
