"""Small Annuaire Santé files written by hand for the import tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psc_idp.directory.importers.libreacces import LIBREACCES_52, LIBREACCES_56
from psc_idp.directory.importers.psc_extract import PSC_EXTRACT_49, PSC_EXTRACT_51
from psc_idp.directory.importers.tabular import Layout
from psc_idp.directory.national_id import rpps_luhn_key


def rpps(serial: int) -> str:
    """A valid national id in the RPPS test range (``8997…``)."""
    first10 = f"99709{serial:05d}"
    return "8" + first10 + rpps_luhn_key(first10)


def row(national_id: str, **values: str) -> dict[str, str]:
    """One row, by header: a general practitioner in a cabinet unless told otherwise."""
    base = {
        "Type d'identifiant PP": national_id[0],
        "Identifiant PP": national_id[1:],
        "Identification nationale PP": national_id,
        "Code civilité d'exercice": "DR",
        "Code civilité": "M",
        "Nom d'exercice": "DUPONT",
        "Prénom d'exercice": "JEAN",
        "Code profession": "10",
        "Libellé profession": "Médecin",
        "Code catégorie professionnelle": "C",
        "Code type savoir-faire": "S",
        "Code savoir-faire": "SM26",
        "Code mode exercice": "L",
        "Identifiant technique de la structure": "R10000001",
        "Raison sociale site": "CABINET DU DR DUPONT",
        "Numéro Voie (coord. structure)": "12",
        "Code type de voie (coord. structure)": "R",
        "Libellé Voie (coord. structure)": "DES LILAS",
        "Bureau cedex (coord. structure)": "75009 PARIS",
        "Code postal (coord. structure)": "75009",
        "Code pays (coord. structure)": "99000",
        "Ancien identifiant de la structure": "499700366240007",
        "Autorité d'enregistrement": "CNOM/CNOM/CNOM",
        "Code secteur d'activité": "SA07",
        "Code rôle": "FON-01",
        "Code genre activité": "GENR01",
        "Code genre d'activité": "GENR01",
        "Nom de famille": "DUPONT",
        "Prénoms": "JEAN'MARC'",
        "Date de naissance": "14/07/1975",
        "Code sexe": "M",
        "Téléphone (coord. correspondance)": "0601020304",
        "Adresse e-mail (coord. correspondance)": "jean.dupont@exemple.test",
        "Autres identifiants": f"{national_id},RPPS,1",
    }
    base.update(values)
    return base


def text(layout: Layout, rows: list[dict[str, str]]) -> str:
    lines = ["|".join(layout.headers) + "|"]
    lines += ["|".join(r.get(h, "") for h in layout.headers) + "|" for r in rows]
    return "\n".join(lines) + "\n"


def write(path: Path, layout: Layout, rows: list[dict[str, str]]) -> Path:
    path.write_text(text(layout, rows), encoding="utf-8")
    return path


LAYOUTS: dict[str, Layout] = {
    "libreacces-56": LIBREACCES_56,
    "libreacces-52": LIBREACCES_52,
    "psc-extract-49": PSC_EXTRACT_49,
    "psc-extract-51": PSC_EXTRACT_51,
}


def fhir_bundle(national_id: str) -> dict[str, Any]:
    """A searchset Bundle as the Annuaire Santé API returns: one practitioner, one role."""
    nos = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{0}".format
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Practitioner",
                    "id": "003-123",
                    "identifier": [
                        {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": national_id},
                        {"system": "https://rpps.esante.gouv.fr", "value": national_id[1:]},
                    ],
                    "name": [{"family": "MARTIN", "given": ["CLAIRE", "ANNE"], "prefix": ["MME"]}],
                    "gender": "female",
                    "birthDate": "1980-02-03",
                    "telecom": [{"system": "email", "value": "claire.martin@exemple.test"}],
                }
            },
            {
                "resource": {
                    "resourceType": "Organization",
                    "id": "org-1",
                    "identifier": [
                        {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "1750000001"},
                        {"type": {"coding": [{"code": "FINEG"}]}, "value": "750000001"},
                    ],
                    "type": [
                        {"coding": [{"system": nos("TRE_R02-SecteurActivite"), "code": "SA01"}]}
                    ],
                    "name": "HOPITAL DE TEST",
                    "address": [
                        {"line": ["1 RUE DE L'HOPITAL"], "postalCode": "75010", "city": "Paris"}
                    ],
                }
            },
            {
                "resource": {
                    "resourceType": "PractitionerRole",
                    "id": "role-1",
                    "active": True,
                    "practitioner": {"reference": "Practitioner/003-123"},
                    "organization": {"reference": "Organization/org-1"},
                    "extension": [
                        {
                            "url": "https://annuaire.sante.fr/fhir/StructureDefinition/PractitionerRole-Name",
                            "valueHumanName": {
                                "family": "MARTIN",
                                "given": ["CLAIRE"],
                                "suffix": ["DR"],
                            },
                        }
                    ],
                    "code": [
                        {
                            "coding": [
                                {"system": nos("TRE_G15-ProfessionSante"), "code": "10"},
                                {"system": nos("TRE_R09-CategorieProfessionnelle"), "code": "C"},
                            ]
                        },
                        {"coding": [{"system": nos("TRE_R23-ModeExercice"), "code": "S"}]},
                    ],
                    "specialty": [
                        {"coding": [{"system": nos("TRE_R38-SpecialiteOrdinale"), "code": "SM04"}]}
                    ],
                }
            },
        ],
    }
