"""Identifier systems, code systems and extensions of the Annuaire Santé FHIR API."""

from __future__ import annotations

import re

from psc_idp.directory.importers.fhir import (
    EXERCISE_NAME_EXTENSION,
    NATIONAL_ID_SYSTEM,
    RPPS_SYSTEM,
    STRUCTURE_ID_SYSTEM,
)

__all__ = ["NATIONAL_ID_SYSTEM", "RPPS_SYSTEM", "STRUCTURE_ID_SYSTEM"]

#: Identifier types (HL7 France's v2-0203 table, as the Annuaire Santé uses it).
IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
#: Organization kind: a site (geographical entity) or a legal entity.
ORGANIZATION_TYPE_SYSTEM = (
    "https://interop.esante.gouv.fr/ig/fhir/annuaire/CodeSystem/as-cs-organization-type"
)
EXERCISE_NAME_URL = "https://annuaire.sante.fr/fhir/StructureDefinition/" + EXERCISE_NAME_EXTENSION

#: Nomenclatures by name, as published by the MOS (``TRE_G15`` → its FHIR code system).
TABLES = {
    "TRE_G15": "TRE_G15-ProfessionSante",
    "TRE_R85": "TRE_R85-RolePriseCharge",
    "TRE_R09": "TRE_R09-CategorieProfessionnelle",
    "TRE_R23": "TRE_R23-ModeExercice",
    "TRE_R22": "TRE_R22-GenreActivite",
    "TRE_R21": "TRE_R21-Fonction",
    "TRE_G05": "TRE_G05-SousSectionTableauCNOP",
    "TRE_R38": "TRE_R38-SpecialiteOrdinale",
    "TRE_R04": "TRE_R04-TypeSavoirFaire",
    "TRE_R02": "TRE_R02-SecteurActivite",
}

#: FHIR ``id`` datatype (R4 §2.24.0.1).
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def system(table: str) -> str:
    name = TABLES[table]
    return f"https://mos.esante.gouv.fr/NOS/{name}/FHIR/{name.replace('_', '-', 1)}"


def coding(table: str, code: str) -> dict[str, str]:
    return {"system": system(table), "code": code}
