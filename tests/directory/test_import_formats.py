"""Each format the Annuaire Santé publishes, plain and zipped, lands in the same records."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from psc_idp.directory import synth
from psc_idp.directory.importers import ImportFileError, run_import
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.userinfo import build_userinfo
from tests.directory.import_files import LAYOUTS, fhir_bundle, row, rpps, write

SCOPES = {"openid", "scope_all"}


def _userinfo(national_id: str) -> dict:
    practitioner = find_practitioner(national_id)
    assert practitioner is not None
    return build_userinfo(practitioner, sub="s", auth_mode="MOBILE", palier="p", scopes=SCOPES)


@pytest.mark.parametrize("variant", sorted(LAYOUTS))
def test_each_tabular_variant_groups_rows_into_exercices_and_activities(
    app: Flask, tmp_path: Path, variant: str
) -> None:
    doctor, nurse = rpps(1), rpps(2)
    rows = [
        row(doctor),
        row(
            doctor,
            **{
                "Identifiant technique de la structure": "F750000001",
                "Raison sociale site": "HOPITAL",
                "Code mode exercice": "S",
                "Code secteur d'activité": "SA01",
            },
        ),
        row(doctor, **{"Code profession": "40", "Code savoir-faire": "SCD03"}),
        row(
            nurse,
            **{
                "Code profession": "60",
                "Code civilité d'exercice": "",
                "Code type savoir-faire": "",
                "Code savoir-faire": "",
            },
        ),
    ]
    summary = run_import(write(tmp_path / "f.txt", LAYOUTS[variant], rows))
    assert (summary.rows, summary.created, summary.rejected) == (4, 2, 0)
    assert summary.source.startswith(LAYOUTS[variant].format)
    info = _userinfo(doctor)
    exercices = info["SubjectRefPro"]["exercices"]
    assert [e["codeProfession"] for e in exercices] == ["10", "40"]
    assert [a["identifiantTechniqueDeLaStructure"] for a in exercices[0]["activities"]] == [
        "R10000001",
        "F750000001",
    ]
    assert info["SubjectOrganizationID"] == "R10000001"
    assert info["Secteur_Activite"] == "SA07^1.2.250.1.71.4.2.4"
    assert info["SubjectRole"] == ["10^1.2.250.1.213.1.1.5.5", "40^1.2.250.1.213.1.1.5.5"]
    genre = exercices[0]["activities"][0]["codeGenreActivite"]
    role = exercices[0]["activities"][0]["codeRole"]
    # The older open-data form and the 49-column extract have no genre of activity.
    assert genre == ("" if variant in ("libreacces-52", "psc-extract-49") else "GENR01")
    assert role == ("" if variant == "libreacces-52" else "FON-01")
    assert _userinfo(nurse)["SubjectRefPro"]["exercices"][0]["codeProfession"] == "60"


@pytest.mark.parametrize("variant", ["psc-extract-49", "psc-extract-51"])
def test_the_extract_brings_civil_status_and_contact_data(
    app: Flask, tmp_path: Path, variant: str
) -> None:
    someone = rpps(3)
    run_import(write(tmp_path / "e.txt", LAYOUTS[variant], [row(someone)]))
    practitioner = find_practitioner(someone)
    assert practitioner.given_name_list == ["JEAN", "MARC"]
    assert (practitioner.family_name, practitioner.birth_date) == ("DUPONT", date(1975, 7, 14))
    assert (practitioner.sex, practitioner.email) == ("M", "jean.dupont@exemple.test")
    assert practitioner.phone == "0601020304"


def test_the_open_data_file_has_names_of_practice_only(app: Flask, tmp_path: Path) -> None:
    someone = rpps(4)
    run_import(write(tmp_path / "l.txt", LAYOUTS["libreacces-56"], [row(someone)]))
    practitioner = find_practitioner(someone)
    assert (practitioner.family_name, practitioner.given_names) == ("DUPONT", "JEAN")
    assert practitioner.birth_date is None and practitioner.email == ""


def test_autres_identifiants_become_other_ids(app: Flask, tmp_path: Path) -> None:
    someone = rpps(5)
    others = f"{someone},RPPS,1;0751234567,ADELI,0"
    run_import(
        write(
            tmp_path / "e.txt",
            LAYOUTS["psc-extract-51"],
            [row(someone, **{"Autres identifiants": others})],
        )
    )
    assert _userinfo(someone)["otherIds"] == [
        {"identifiant": someone, "origine": "RPPS", "qualite": 1},
        {"identifiant": "0751234567", "origine": "ADELI", "qualite": 0},
    ]


@pytest.mark.parametrize("ndjson", [False, True], ids=["bundle", "ndjson"])
def test_fhir_practitioner_role_and_organization(app: Flask, tmp_path: Path, ndjson: bool) -> None:
    someone = rpps(6)
    bundle = fhir_bundle(someone)
    path = tmp_path / "fhir.json"
    if ndjson:
        lines = [json.dumps(entry["resource"]) for entry in bundle["entry"]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(bundle), encoding="utf-8")
    summary = run_import(path)
    assert (summary.source, summary.created, summary.rejected) == ("fhir", 1, 0)
    practitioner = find_practitioner(someone)
    assert practitioner.given_name_list == ["CLAIRE", "ANNE"]
    assert (practitioner.civility, practitioner.sex) == ("MME", "F")
    assert practitioner.birth_date == date(1980, 2, 3)
    exercice = _userinfo(someone)["SubjectRefPro"]["exercices"][0]
    assert (exercice["codeProfession"], exercice["codeCiviliteDexercice"]) == ("10", "DR")
    assert (exercice["codeSavoirFaire"], exercice["codeTypeSavoirFaire"]) == ("SM04", "S")
    activity = exercice["activities"][0]
    assert (activity["codeModeExercice"], activity["codeSecteurDactivite"]) == ("S", "SA01")
    assert activity["raisonSocialeSite"] == "HOPITAL DE TEST"
    assert activity["numeroFinessSite"] == "750000001"
    assert activity["ancienIdentifiantDeLaStructure"] == "1750000001"
    assert activity["bureauCedex"] == "75010 PARIS"


def test_a_zipped_file_imports_like_the_plain_one(app: Flask, tmp_path: Path) -> None:
    plain = synth.write_file(tmp_path / "plain.txt", "libreacces", 120, seed=4)
    archive = tmp_path / "PS_LibreAcces_202612010900.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(plain, "PS_LibreAcces_Personne_activite_202612010900.txt")
    first = run_import(archive)
    assert first.source == "libreacces (56 colonnes), compressé"
    assert (first.rows, first.rejected) == (120, 0)
    again = run_import(plain)  # same content, other file: nothing to change
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)


@pytest.mark.parametrize("file_format", synth.FORMATS)
def test_synthetic_files_import_without_a_reject(
    app: Flask, tmp_path: Path, file_format: str
) -> None:
    path = synth.write_file(tmp_path / f"synth.{file_format}", file_format, 300, seed=9)
    summary = run_import(path)
    assert (summary.rows, summary.rejected) == (300, 0)
    assert summary.created > 100
    several = [
        p
        for p in (find_practitioner(synth.national_id(i)) for i in range(1, 60))
        if p is not None and (len(p.exercices) > 1 or len(p.exercices[0].activities) > 1)
    ]
    assert several  # several exercices or activities per person


def test_the_format_option_must_match_the_file(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path / "l.txt", LAYOUTS["libreacces-56"], [row(rpps(7))])
    with pytest.raises(ImportFileError, match="au format libreacces, pas psc-extract"):
        run_import(path, wanted="psc-extract")
    assert find_practitioner(rpps(7)) is None


def test_the_published_archive_is_read_for_its_personne_activite_file(
    app: Flask, tmp_path: Path
) -> None:
    plain = synth.write_file(tmp_path / "plain.txt", "libreacces", 30, seed=6)
    archive = tmp_path / "PS_LibreAcces_202612010900.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("PS_LibreAcces_Dipl_AutExerc_202612010900.txt", "Type|Diplôme|\n")
        zipped.write(plain, "PS_LibreAcces_Personne_activite_202612010900.txt")
        zipped.writestr("PS_LibreAcces_SavoirFaire_202612010900.txt", "Type|Savoir|\n")
    summary = run_import(archive)
    assert (summary.rows, summary.rejected) == (30, 0)


def test_an_id_written_in_lower_case_keeps_all_its_rows(app: Flask, tmp_path: Path) -> None:
    staff = "30b0057881/cpet0002"
    rows = [
        row(
            staff,
            **{
                "Code profession": "313",
                "Code type savoir-faire": "",
                "Code savoir-faire": "",
                "Raison sociale site": s,
            },
        )
        for s in ("SITE A", "SITE B")
    ]
    run_import(write(tmp_path / "s.txt", LAYOUTS["libreacces-56"], rows))
    activities = find_practitioner("30B0057881/CPET0002").exercices[0].activities
    assert [a.raison_sociale for a in activities] == ["SITE A", "SITE B"]
