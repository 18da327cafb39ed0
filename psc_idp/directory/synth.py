"""Synthetic Annuaire Santé files of any size, for tests and benchmarks.

Persons get valid national ids in ranges no real professional has (RPPS ``8998…``, ADELI in
``099…``, staff cards under the FINESS ``0S9999999``), one or two exercices with one to four
activities each, and codes from the nomenclatures psc-idp knows. The same seed gives the same
file. Files are written row by row: any size in constant memory.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from psc_idp.directory import codes
from psc_idp.directory.importers import libreacces, psc_extract
from psc_idp.directory.importers.fhir import (
    EXERCISE_NAME_EXTENSION,
    NATIONAL_ID_SYSTEM,
    RPPS_SYSTEM,
    STRUCTURE_ID_SYSTEM,
)
from psc_idp.directory.importers.tabular import Layout

FORMATS = ("libreacces", "psc-extract", "fhir")

_FAMILY_NAMES = (
    "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL "
    "LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE "
    "ROUSSEAU VINCENT MULLER LEFEVRE FAURE ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER"
)
_GIVEN_NAMES = (
    "MARIE JEAN ANNE PIERRE CLAIRE LOUIS SOPHIE PAUL JULIE MICHEL CAMILLE NICOLAS EMMA HUGO "
    "LEA THOMAS CHLOE LUCAS MANON JULIEN SARAH ANTOINE INES MAXIME CATHERINE FRANCOIS"
)
_FAMILY = _FAMILY_NAMES.split()
_GIVEN = _GIVEN_NAMES.split()
_STREETS = ("DE LA REPUBLIQUE", "VICTOR HUGO", "DES LILAS", "JEAN JAURES", "DU GENERAL LECLERC")
_VOIES = ("R", "AV", "BD", "PL", "CHE")
_TOWNS = (
    ("75009", "75109", "PARIS", "75"),
    ("69003", "69383", "LYON", "69"),
    ("13005", "13205", "MARSEILLE", "13"),
    ("31000", "31555", "TOULOUSE", "31"),
    ("33000", "33063", "BORDEAUX", "33"),
    ("59000", "59350", "LILLE", "59"),
    ("44000", "44109", "NANTES", "44"),
)
#: (profession, category, civilité d'exercice, savoir-faire type, savoir-faire codes, weight)
_PROFESSIONS = (
    ("10", "C", "DR", "S", ("SM26", "SM04", "SM40", "SM42", "SM02", "SM54"), 30),
    ("21", "C", "", "", ("",), 10),
    ("60", "C", "", "", ("",), 30),
    ("70", "C", "", "", ("",), 9),
    ("40", "C", "DR", "S", ("SCD03", "SCD01"), 6),
    ("50", "C", "", "", ("",), 4),
    ("91", "C", "", "", ("",), 4),
    ("10", "E", "", "", ("",), 2),
    ("60", "M", "", "", ("",), 1),
    ("313", "C", "", "", ("",), 4),
)
_WEIGHTS = [entry[-1] for entry in _PROFESSIONS]
_GENRES = ("GENR01",) * 9 + ("GENR03",)
STAFF_FINESS = "0S9999999"


def luhn_key(digits: str) -> str:
    """The Luhn key to append to ``digits``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def national_id(index: int) -> str:
    """The national id of synthetic person ``index``: RPPS mostly, some ADELI and staff."""
    if index % 20 == 7:
        return f"099{index % 10**7:07d}"
    if index % 20 == 13:
        return f"3{STAFF_FINESS}/CPET{index:07d}"
    rpps = f"998{index:07d}"
    return "8" + rpps + luhn_key(rpps)


@dataclass
class Activity:
    mode: str
    sector: str
    section: str
    role: str
    genre: str
    structure: dict[str, str]


@dataclass
class Exercice:
    profession: str
    category: str
    civilite: str
    sf_type: str
    sf: str
    activities: list[Activity]


@dataclass
class Person:
    index: int
    national_id: str
    civility: str
    sex: str
    family: str
    given: list[str]
    birth: str  # JJ/MM/AAAA
    exercices: list[Exercice]


def structure(number: int) -> dict[str, str]:
    """Structure ``number`` of the synthetic directory: a cabinet, or a hospital site."""
    rng = random.Random(number)
    postal, commune, town, department = _TOWNS[number % len(_TOWNS)]
    hospital = number % 10 == 0
    finess = f"0{number % 10**8:08d}"
    return {
        "kind": "hospital" if hospital else "cabinet",
        "structure_id": f"F{finess}" if hospital else f"R{number:08d}",
        "siret": "" if hospital else f"9{number % 10**13:013d}",
        "siren": "" if hospital else f"9{number % 10**8:08d}",
        "finess_site": finess if hospital else "",
        "finess_juridique": f"0{(number + 1) % 10**8:08d}" if hospital else "",
        "raison_sociale": f"CENTRE HOSPITALIER {town} {number}"
        if hospital
        else f"CABINET {number}",
        "numero_voie": str(rng.randint(1, 120)),
        "code_type_voie": rng.choice(_VOIES),
        "libelle_voie": rng.choice(_STREETS),
        "bureau_cedex": f"{postal} {town}",
        "code_postal": postal,
        "code_commune": commune,
        "code_pays": "99000",
        "telephone": f"01{number % 10**8:08d}",
        "code_departement": department,
        "ancien_identifiant": f"1{finess}" if hospital else f"4{number % 10**13:013d}",
        "autorite_enregistrement": "ARS/ARS/ARS" if hospital else "CNOM/CNOM/CNOM",
    }


def _activity(rng: random.Random, profession: str, structures: int) -> Activity:
    where = structure(rng.randrange(structures))
    hospital = where["kind"] == "hospital"
    sector = "SA01" if hospital else rng.choice(("SA07", "SA08", "SA09"))
    section, role = "", ""
    if profession == "21":
        sector, section, role = ("SA01", "H", "FON-33") if hospital else ("SA33", "A", "FON-03")
    return Activity("S" if hospital else "L", sector, section, role, rng.choice(_GENRES), where)


def person(index: int, rng: random.Random, structures: int) -> Person:
    sex = rng.choice("MF")
    nid = national_id(index)
    exercices = []
    for _ in range(2 if rng.random() < 0.08 else 1):
        profession, category, civ, sf_type, sfs, _weight = rng.choices(_PROFESSIONS, _WEIGHTS)[0]
        if nid.startswith("3"):
            profession, category, civ, sf_type, sfs = "313", "C", "", "", ("",)
        count = rng.choices((1, 2, 3, 4), (55, 25, 12, 8))[0]
        activities = [_activity(rng, profession, structures) for _ in range(count)]
        exercices.append(Exercice(profession, category, civ, sf_type, rng.choice(sfs), activities))
    given = rng.sample(_GIVEN, rng.choice((1, 1, 2)))
    birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 1998)}"
    return Person(
        index, nid, "M" if sex == "M" else "MME", sex, rng.choice(_FAMILY), given, birth, exercices
    )


def persons(rows: int, seed: int) -> Iterator[tuple[Person, Exercice, Activity]]:
    """Exactly ``rows`` (person, exercice, activity) triples, person after person."""
    rng = random.Random(seed)
    structures = max(10, rows // 3)
    produced, index = 0, 0
    while produced < rows:
        index += 1
        someone = person(index, rng, structures)
        for exercice in someone.exercices:
            for activity in exercice.activities:
                if produced == rows:
                    return
                produced += 1
                yield someone, exercice, activity


def _values(p: Person, e: Exercice, a: Activity) -> dict[str, str]:
    s = a.structure
    email = f"{p.given[0].lower()}.{p.family.lower()}.{p.index}@exemple.test"
    return {
        "Type d'identifiant PP": p.national_id[0],
        "Identifiant PP": p.national_id[1:],
        "Identification nationale PP": p.national_id,
        "Nom de famille": p.family,
        "Prénoms": "'".join(p.given) + "'",
        "Date de naissance": p.birth,
        "Code commune de naissance": s["code_commune"],
        "Code pays de naissance": "99100",
        "Lieu de naissance": s["bureau_cedex"][6:],
        "Code sexe": p.sex,
        "Téléphone (coord. correspondance)": f"06{p.index % 10**8:08d}",
        "Adresse e-mail (coord. correspondance)": email,
        "Code civilité": p.civility,
        "Code civilité d'exercice": e.civilite,
        "Nom d'exercice": p.family,
        "Prénom d'exercice": p.given[0],
        "Code profession": e.profession,
        "Code catégorie professionnelle": e.category,
        "Code type savoir-faire": e.sf_type,
        "Code savoir-faire": e.sf,
        "Code mode exercice": a.mode,
        "Code secteur d'activité": a.sector,
        "Code section tableau pharmaciens": a.section,
        "Code rôle": a.role,
        "Code genre activité": a.genre,
        "Code genre d'activité": a.genre,
        "Autres identifiants": f"{p.national_id},{_origin(p.national_id)},1",
        "Libellé civilité d'exercice": codes.label(codes.CIVILITES_EXERCICE, e.civilite),
        "Libellé civilité": codes.label(codes.CIVILITES, p.civility),
        "Libellé profession": codes.profession_label(e.profession),
        "Libellé catégorie professionnelle": codes.label(codes.CATEGORIES, e.category),
        "Libellé type savoir-faire": codes.label(codes.SAVOIR_FAIRE_TYPES, e.sf_type),
        "Libellé savoir-faire": codes.label(codes.SAVOIR_FAIRE, e.sf),
        "Libellé mode exercice": codes.label(codes.MODES, a.mode),
        "Libellé secteur d'activité": codes.label(codes.SECTORS, a.sector),
        "Libellé section tableau pharmaciens": codes.label(codes.PHARMACIST_SECTIONS, a.section),
        "Libellé rôle": codes.label(codes.ROLES, a.role),
        "Libellé genre activité": codes.label(codes.GENRES, a.genre),
        "Libellé commune (coord. structure)": s["bureau_cedex"][6:],
        "Libellé pays (coord. structure)": "France",
        **{_STRUCTURE_HEADERS[key]: value for key, value in s.items() if key in _STRUCTURE_HEADERS},
    }


def _origin(nid: str) -> str:
    return {"8": "RPPS", "0": "ADELI", "3": "FINESS"}[nid[0]]


_STRUCTURE_HEADERS = {
    field: header
    for header, (kind, field) in libreacces.LIBREACCES_56.columns
    if kind == "activity"
}


def _write_tabular(out: TextIO, layout: Layout, rows: int, seed: int) -> None:
    headers = layout.headers
    out.write("|".join(headers) + "|\n")
    for p, e, a in persons(rows, seed):
        values = _values(p, e, a)
        out.write("|".join(values.get(header, "") for header in headers) + "|\n")


def _fhir_lines(rows: int, seed: int) -> Iterator[dict]:
    last_person = 0  # persons come one after the other
    emitted_structures: set[str] = set()
    for p, e, a in persons(rows, seed):
        if p.index != last_person:
            last_person = p.index
            yield _practitioner(p)
        s = a.structure
        if s["structure_id"] not in emitted_structures:
            emitted_structures.add(s["structure_id"])
            yield _organization(a)
        yield _role(p, e, a)


def _coding(table: str, code: str) -> dict:
    return {"system": f"https://mos.esante.gouv.fr/NOS/{table}/FHIR/{table}", "code": code}


def _practitioner(p: Person) -> dict:
    identifiers = [{"system": NATIONAL_ID_SYSTEM, "value": p.national_id}]
    if p.national_id.startswith("8"):
        identifiers.append({"system": RPPS_SYSTEM, "value": p.national_id[1:]})
    day, month, year = p.birth.split("/")
    return {
        "resourceType": "Practitioner",
        "id": f"pra-{p.index}",
        "identifier": identifiers,
        "active": True,
        "name": [{"family": p.family, "given": p.given, "prefix": [p.civility]}],
        "gender": "male" if p.sex == "M" else "female",
        "birthDate": f"{year}-{month}-{day}",
    }


def _organization(a: Activity) -> dict:
    s = a.structure
    identifiers = [{"system": STRUCTURE_ID_SYSTEM, "value": s["ancien_identifiant"]}]
    for code, key in (("FINEG", "finess_site"), ("FINEJ", "finess_juridique"), ("SIRET", "siret")):
        if s[key]:
            identifiers.append({"type": {"coding": [{"code": code}]}, "value": s[key]})
    return {
        "resourceType": "Organization",
        "id": s["structure_id"],
        "identifier": identifiers,
        "type": [{"coding": [_coding("TRE_R02-SecteurActivite", a.sector)]}],
        "name": s["raison_sociale"],
        "address": [
            {
                "line": [s["libelle_voie"]],
                "postalCode": s["code_postal"],
                "city": s["bureau_cedex"][6:],
            }
        ],
    }


def _role(p: Person, e: Exercice, a: Activity) -> dict:
    codes = [
        _coding("TRE_G15-ProfessionSante", e.profession),
        _coding("TRE_R09-CategorieProfessionnelle", e.category),
    ]
    activity = [_coding("TRE_R23-ModeExercice", a.mode), _coding("TRE_R22-GenreActivite", a.genre)]
    if a.role:
        activity.append(_coding("TRE_R21-Fonction", a.role))
    if a.section:
        activity.append(_coding("TRE_G05-SousSectionTableauCNOP", a.section))
    specialty = []
    if e.sf:
        specialty = [
            {"coding": [_coding("TRE_R38-SpecialiteOrdinale", e.sf)]},
            {"coding": [_coding("TRE_R04-TypeSavoirFaire", e.sf_type)]},
        ]
    name = {"family": p.family, "given": [p.given[0]]}
    if e.civilite:
        name["suffix"] = [e.civilite]
    return {
        "resourceType": "PractitionerRole",
        "active": True,
        "extension": [
            {
                "url": "https://annuaire.sante.fr/fhir/StructureDefinition/"
                + EXERCISE_NAME_EXTENSION,
                "valueHumanName": name,
            }
        ],
        "practitioner": {"reference": f"Practitioner/pra-{p.index}"},
        "organization": {"reference": f"Organization/{a.structure['structure_id']}"},
        "code": [{"coding": codes}, {"coding": activity}],
        "specialty": specialty,
    }


def _write_bundle(out: TextIO, rows: int, seed: int) -> None:
    """One searchset Bundle holding every resource, written entry by entry."""
    out.write('{"resourceType":"Bundle","type":"searchset","entry":[\n')
    for number, resource in enumerate(_fhir_lines(rows, seed)):
        entry = {"fullUrl": f"{resource['resourceType']}/{resource.get('id', number)}"}
        entry["resource"] = resource
        out.write(("," if number else "") + json.dumps(entry, ensure_ascii=False) + "\n")
    out.write("]}\n")


def write(out: TextIO, file_format: str, rows: int, seed: int = 1, bundle: bool = False) -> None:
    """Write ``rows`` rows (FHIR: roles, with their practitioners and organizations, one
    resource per line, or one searchset Bundle with ``bundle``)."""
    if file_format == "libreacces":
        _write_tabular(out, libreacces.LIBREACCES_56, rows, seed)
    elif file_format == "psc-extract":
        _write_tabular(out, psc_extract.PSC_EXTRACT_51, rows, seed)
    elif file_format == "fhir" and bundle:
        _write_bundle(out, rows, seed)
    elif file_format == "fhir":
        for resource in _fhir_lines(rows, seed):
            out.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        raise ValueError(f"unknown synthetic format {file_format!r}")


#: The names the Annuaire Santé publishes its files under.
PUBLISHED_NAMES = {
    "libreacces": "PS_LibreAcces_Personne_activite_{ts}.txt",
    "psc-extract": "Extraction_ProSanteConnect_Personne_activite_{ts}.txt",
    "fhir": "annuaire_sante_fhir_{ts}.ndjson",
}


def write_file(path: Path | None, file_format: str, rows: int, seed: int = 1) -> Path:
    """Write a synthetic file at ``path`` (a ``.zip`` holds it under its published name);
    by default under its published name in the current directory. FHIR is NDJSON, or one
    searchset Bundle when ``path`` ends in ``.json``."""
    member = PUBLISHED_NAMES[file_format].format(ts=datetime.now(UTC).strftime("%Y%m%d%H%M"))
    target = path or Path(member)
    if target.suffix.lower() != ".zip":
        bundle = target.suffix.lower() == ".json"
        with target.open("w", encoding="utf-8", newline="\n") as out:
            write(out, file_format, rows, seed, bundle=bundle)
        return target
    with (
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(member, "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out,
    ):
        write(out, file_format, rows, seed)
    return target
