"""Every coded field of the files is checked: an unknown code is a reject with its line and
why, in each tabular format and in FHIR; every code of the nomenclatures is accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from psc_idp.directory import nomenclatures
from psc_idp.directory.importers import run_import
from psc_idp.directory.lookup import find_practitioner
from tests.directory.import_files import LAYOUTS, fhir_bundle, row, rpps, write

GOOD = rpps(40)
BAD = rpps(41)

#: column → (bad value, words of the reason)
BAD_CODES = {
    "Code catégorie professionnelle": ("Z", "code catégorie professionnelle inconnu « Z »"),
    "Code civilité d'exercice": ("DOC", "code civilité d'exercice inconnu « DOC »"),
    "Code type savoir-faire": ("XX", "code type de savoir-faire inconnu « XX » (TRE_R04)"),
    "Code savoir-faire": ("SM99", "code savoir-faire inconnu « SM99 »"),
    "Code secteur d'activité": ("SA99", "code secteur d'activité inconnu « SA99 » (TRE_R02)"),
    "Code section tableau pharmaciens": (
        "Q",
        "code section tableau pharmaciens inconnu « Q » (TRE_G05)",
    ),
    "Code rôle": ("FON-99", "code rôle inconnu « FON-99 » (TRE_R21)"),
    "Code type de voie (coord. structure)": ("rue!", "code type de voie invalide"),
    "Code commune (coord. structure)": ("PARIS", "code commune invalide"),
    "Code pays (coord. structure)": ("FR", "code pays invalide"),
    "Code Département (structure)": ("750", "code département invalide"),
    "Type d'identifiant PP": ("0", "type d'identifiant PP « 0 » incohérent"),
    "Identifiant PP": ("12345678901", "identifiant PP « 12345678901 » incohérent"),
}
#: The genre column is named differently in the open-data file and in the extract.
GENRE = {"libreacces-56": "Code genre activité", "psc-extract-51": "Code genre d'activité"}
#: Columns the extract does not carry.
NOT_IN_EXTRACT = {"Code civilité d'exercice"}


def _rejects(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def _import_one_bad(tmp_path: Path, layout: str, **bad: str) -> list[str]:
    path = write(tmp_path / "f.txt", LAYOUTS[layout], [row(GOOD), row(BAD, **bad)])
    summary = run_import(path)
    assert (summary.created, summary.rejected) == (1, 1)
    assert find_practitioner(BAD) is None
    [reject] = _rejects(summary.rejects_path)
    return reject


CASES = [
    (layout, column)
    for layout in ("libreacces-56", "psc-extract-51")
    for column in sorted(BAD_CODES)
    if not (layout.startswith("psc-extract") and column in NOT_IN_EXTRACT)
]


@pytest.mark.parametrize(("layout", "column"), CASES)
def test_an_unknown_code_is_a_reject_with_its_line_and_reason(
    app: Flask, tmp_path: Path, layout: str, column: str
) -> None:
    value, reason = BAD_CODES[column]
    line, national_id, why = _import_one_bad(tmp_path, layout, **{column: value})
    assert (line, national_id) == ("3", BAD)
    assert reason in why


@pytest.mark.parametrize("layout", sorted(GENRE))
def test_an_unknown_genre_is_a_reject(app: Flask, tmp_path: Path, layout: str) -> None:
    line, _, why = _import_one_bad(tmp_path, layout, **{GENRE[layout]: "GENR42"})
    assert line == "3" and "code genre d'activité inconnu « GENR42 » (TRE_R22)" in why


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"Code type savoir-faire": "C", "Code savoir-faire": "SM26"}, "d'un autre type que « C »"),
        ({"Code type savoir-faire": "S", "Code savoir-faire": ""}, "sans code savoir-faire"),
        ({"Code type savoir-faire": "", "Code savoir-faire": "SM26"}, "sans type de savoir-faire"),
    ],
    ids=["wrong-type", "type-without-code", "code-without-type"],
)
def test_a_savoir_faire_must_agree_with_its_type(
    app: Flask, tmp_path: Path, values: dict[str, str], reason: str
) -> None:
    _, _, why = _import_one_bad(tmp_path, "libreacces-56", **values)
    assert reason in why


def test_an_unknown_type_of_identifier_is_a_reject(app: Flask, tmp_path: Path) -> None:
    _, _, why = _import_one_bad(tmp_path, "psc-extract-51", **{"Type d'identifiant PP": "9"})
    assert "type d'identifiant PP « 9 »" in why


def test_every_code_of_each_nomenclature_is_accepted(app: Flask, tmp_path: Path) -> None:
    rows = []
    serial = 100
    pairs = [
        (kind, code) for kind, table in nomenclatures.SAVOIR_FAIRE_BY_TYPE.items() for code in table
    ]
    columns = {
        "Code secteur d'activité": list(nomenclatures.SECTORS),
        "Code rôle": list(nomenclatures.ROLES),
        "Code genre activité": list(nomenclatures.GENRES),
        "Code section tableau pharmaciens": list(nomenclatures.PHARMACIST_SECTIONS),
    }
    for kind, code in pairs:
        values = {"Code type savoir-faire": kind, "Code savoir-faire": code}
        for column, codes in columns.items():
            values[column] = codes[serial % len(codes)]
        rows.append(row(rpps(serial), **values))
        serial += 1
    summary = run_import(write(tmp_path / "all.txt", LAYOUTS["libreacces-56"], rows))
    assert (summary.created, summary.rejected) == (len(rows), 0)
    assert len(rows) > max(len(codes) for codes in columns.values())  # each code met once
    exercice = find_practitioner(rpps(serial - 1)).exercices[0]
    assert (exercice.savoir_faire_type, exercice.savoir_faire) == pairs[-1]


def test_address_codes_of_overseas_and_corsica_are_accepted(app: Flask, tmp_path: Path) -> None:
    values = {
        "Code commune (coord. structure)": "2A004",
        "Code Département (structure)": "2A",
        "Code type de voie (coord. structure)": "CHE",
    }
    overseas = {"Code commune (coord. structure)": "97411", "Code Département (structure)": "974"}
    rows = [row(GOOD, **values), row(BAD, **overseas)]
    summary = run_import(write(tmp_path / "f.txt", LAYOUTS["psc-extract-49"], rows))
    assert (summary.created, summary.rejected) == (2, 0)


def _fhir_role_with(coding: dict[str, str]) -> dict:
    """The test bundle, its role carrying ``coding`` (in ``specialty`` for a savoir-faire)."""
    bundle = fhir_bundle(BAD)
    [role] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "PractitionerRole"
    ]
    if "TRE_R38" in coding["system"]:
        role["specialty"] = [{"coding": [coding]}]
    else:
        role["code"].append({"coding": [coding]})
    return bundle


NOS = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{0}".format


@pytest.mark.parametrize(
    ("coding", "reason"),
    [
        ({"system": NOS("TRE_R21-Fonction"), "code": "FON-00"}, "code rôle inconnu"),
        ({"system": NOS("TRE_R22-GenreActivite"), "code": "X"}, "code genre d'activité inconnu"),
        (
            {"system": NOS("TRE_G05-SousSectionTableauCNOP"), "code": "Z"},
            "code section tableau pharmaciens inconnu",
        ),
        (
            {"system": NOS("TRE_R38-SpecialiteOrdinale"), "code": "SM00"},
            "code savoir-faire inconnu « SM00 »",
        ),
    ],
    ids=["role", "genre", "section", "savoir-faire"],
)
def test_an_unknown_code_in_a_fhir_role_is_a_reject(
    app: Flask, tmp_path: Path, coding: dict[str, str], reason: str
) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_fhir_role_with(coding)), encoding="utf-8")
    summary = run_import(path)
    assert (summary.created, summary.rejected) == (0, 2)  # the role, then its practitioner
    [role, person] = _rejects(summary.rejects_path)
    assert role[0] == "1" and role[1] == BAD and reason in role[2]
    assert "aucune situation d'exercice active" in person[2]


def test_an_unknown_sector_of_a_fhir_organization_is_a_reject(app: Flask, tmp_path: Path) -> None:
    bundle = fhir_bundle(BAD)
    organization = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization"
    )
    organization["type"][0]["coding"][0]["code"] = "SA00"
    path = tmp_path / "f.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    summary = run_import(path)
    assert summary.created == 0
    assert "code secteur d'activité inconnu « SA00 »" in _rejects(summary.rejects_path)[0][2]
