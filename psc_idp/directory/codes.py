"""French labels of the nomenclatures (NOS, ANS) used by sectoral identities, for display.

Userinfo carries codes only; labels serve the development login picker, the CLI and the docs.
Tables hold the codes met in practice, not every code of each nomenclature: an unknown code
is displayed as is.
"""

from __future__ import annotations

from collections.abc import Mapping

#: TRE_G15 ProfessionSante (``codeProfession``).
PROFESSIONS: dict[str, str] = {
    "10": "Médecin",
    "21": "Pharmacien",
    "26": "Audioprothésiste",
    "28": "Opticien-lunetier",
    "31": "Assistant dentaire",
    "32": "Physicien médical",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "69": "Infirmier psychiatrique",
    "70": "Masseur-kinésithérapeute",
    "80": "Pédicure-podologue",
    "81": "Orthoprothésiste",
    "82": "Podo-orthésiste",
    "83": "Orthopédiste-orthésiste",
    "84": "Oculariste",
    "85": "Épithésiste",
    "86": "Technicien de laboratoire médical",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
    "93": "Psychologue",
    "94": "Ergothérapeute",
    "95": "Diététicien",
    "96": "Psychomotricien",
    "98": "Manipulateur ERM",
}

#: TRE_R85 RolePriseCharge: professions of staff outside TRE_G15 (establishment staff cards).
STAFF_PROFESSIONS: dict[str, str] = {
    "312": "Autre professionnel",
    "313": "Aide-soignant",
    "316": "Préparateur en pharmacie hospitalière",
    "317": "Préparateur en pharmacie (officine)",
    "331": "Secrétaire assistante médico-administrative",
    "332": "Assistant médical",
}

#: TRE_R09 CategorieProfessionnelle (``codeCategorieProfessionnelle``).
CATEGORIES: dict[str, str] = {"C": "Civil", "E": "Étudiant", "M": "Militaire"}

#: Civilité (``codeCivilite``).
CIVILITES: dict[str, str] = {"M": "Monsieur", "MME": "Madame"}

#: Civilité d'exercice (``codeCiviliteDexercice``); some records carry M/MME there too.
CIVILITES_EXERCICE: dict[str, str] = {
    "DR": "Docteur",
    "PR": "Professeur",
    "M": "Monsieur",
    "MME": "Madame",
}

#: Short forms used before a name ("Dr Kit DOC0036624").
CIVILITE_ABBREVIATIONS: dict[str, str] = {"DR": "Dr", "PR": "Pr", "M": "M.", "MME": "Mme"}

#: TRE_R04 TypeSavoirFaire (``codeTypeSavoirFaire``).
SAVOIR_FAIRE_TYPES: dict[str, str] = {
    "S": "Spécialité ordinale",
    "C": "Compétence",
    "CEX": "Compétence exclusive",
    "CAPA": "Capacité",
    "DNQ": "DESC non qualifiant",
    "FQ": "Fonction qualifiée",
    "OP": "Orientation particulière",
    "PAC": "Qualification PAC",
}

#: TRE_R38 SpecialiteOrdinale (``codeSavoirFaire``), the codes used by the demo realm and more.
SAVOIR_FAIRE: dict[str, str] = {
    "SM02": "Anesthésie-réanimation",
    "SM04": "Cardiologie et maladies vasculaires",
    "SM07": "Chirurgie maxillo-faciale et stomatologie",
    "SM15": "Dermatologie et vénéréologie",
    "SM18": "Gériatrie",
    "SM20": "Gynécologie-obstétrique",
    "SM26": "Qualifié en médecine générale",
    "SM27": "Médecine interne",
    "SM32": "Neurologie",
    "SM38": "Ophtalmologie",
    "SM40": "Pédiatrie",
    "SM42": "Psychiatrie",
    "SM44": "Radio-diagnostic",
    "SM49": "Santé publique et médecine sociale",
    "SM53": "Spécialiste en médecine générale",
    "SM54": "Médecine générale",
    "SM59": "Médecine d'urgence",
    "SCD01": "Orthopédie dento-faciale",
    "SCD02": "Chirurgie orale",
    "SCD03": "Médecine bucco-dentaire",
    "SI01": "Infirmier en pratique avancée — pathologies chroniques stabilisées",
}

#: TRE_R23 ModeExercice (``codeModeExercice``).
MODES: dict[str, str] = {"L": "Libéral", "S": "Salarié", "B": "Bénévole"}

#: TRE_R02 SecteurActivite (``codeSecteurDactivite``).
SECTORS: dict[str, str] = {
    "SA01": "Établissement public de santé",
    "SA02": "Hôpital militaire du Service de santé des armées",
    "SA03": "Établissement privé PSPH",
    "SA04": "Établissement privé non PSPH",
    "SA05": "Centre de santé",
    "SA07": "Cabinet individuel",
    "SA08": "Cabinet de groupe",
    "SA09": "Exercice en société",
    "SA15": "PMI et planification familiale",
    "SA17": "Établissement pour personnes âgées",
    "SA25": "Laboratoire de biologie médicale",
    "SA33": "Pharmacie d'officine",
    "SA39": "Pharmacie mutualiste",
    "SA52": "Maison de santé ou pôle de santé",
}

#: TRE_R22 GenreActivite (``codeGenreActivite``).
GENRES: dict[str, str] = {
    "GENR01": "Activité de soin et de pharmacie",
    "GENR02": "Activité de soins ou de pharmacien en tant que remplaçant",
    "GENR03": "Remplacement dans une activité de soins",
    "GENR04": "Activité non soignante",
    "GENR06": "Délégation de responsabilité pour continuité de service",
}

#: TRE_G05 SousSectionTableauCNOP (``codeSectionPharmacien``).
PHARMACIST_SECTIONS: dict[str, str] = {
    "A": "Pharmacien titulaire d'officine",
    "B": "Pharmacien d'entreprise — industrie",
    "C": "Pharmacien d'entreprise — distribution",
    "D": "Pharmacien adjoint, remplaçant ou gérant",
    "E": "Pharmacien d'outre-mer",
    "G": "Pharmacien biologiste",
    "H": "Pharmacien d'établissement de santé",
}

#: TRE_R21 Fonction (``codeRole``).
ROLES: dict[str, str] = {
    "FON-01": "Titulaire de cabinet",
    "FON-02": "Associé dans une société d'exercice",
    "FON-03": "Titulaire d'officine",
    "FON-04": "Remplaçant du titulaire d'officine",
    "FON-05": "Adjoint",
    "FON-17": "Collaborateur",
    "FON-18": "Assistant",
    "FON-22": "Remplaçant, intérimaire, intermittent",
    "FON-33": "Salarié en poste fixe",
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """Label of ``code`` in ``table``; the code itself if unknown, ``""`` if empty."""
    if not code:
        return ""
    return table.get(code, code)


def profession_label(code: str | None) -> str:
    """TRE_G15 profession, or the staff profession of a card holder outside TRE_G15."""
    if code in STAFF_PROFESSIONS:
        return STAFF_PROFESSIONS[code]
    return label(PROFESSIONS, code)
