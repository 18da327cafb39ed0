"""The UserInfo document of a practitioner, in the exact shape PSC returns.

Keys are case-exact and in PSC's order; absent values are ``""``, never ``None``; ``qualite``
is an integer. The sectoral claims come only with the ``scope_all`` (or ``rpps``) scope.
Profiles reproduce older payloads SPs may still parse: ``2021`` (no ``otherIds``, no
``codeGenreActivite``) and ``2023`` (``codeCivilite`` and ``codeGenreActivite`` also at top level).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psc_idp.directory.models import Activity, Exercice, Practitioner
from psc_idp.directory.national_id import origin_of

SECTOR_OID = "1.2.250.1.71.4.2.4"  # TRE_R02 SecteurActivite
PROFESSION_OID = "1.2.250.1.213.1.1.5.5"  # SubjectRole (CI-SIS professions)
PSI_LOCALE = "1.2.250.1.213.1.3.1.1"
SECTORAL_SCOPES = frozenset({"scope_all", "rpps"})
PROFILES = ("current", "2023", "2021")

#: (claim, Activity attribute), in PSC order.
ACTIVITY_CLAIMS = (
    ("codeModeExercice", "mode"),
    ("codeSecteurDactivite", "sector"),
    ("codeSectionPharmacien", "pharmacist_section"),
    ("codeRole", "role"),
    ("codeGenreActivite", "genre"),
    ("numeroSiretSite", "siret"),
    ("numeroSirenSite", "siren"),
    ("numeroFinessSite", "finess_site"),
    ("numeroFinessetablissementJuridique", "finess_juridique"),
    ("identifiantTechniqueDeLaStructure", "structure_id"),
    ("raisonSocialeSite", "raison_sociale"),
    ("enseigneCommercialeSite", "enseigne"),
    ("complementDestinataire", "complement_destinataire"),
    ("complementPointGeographique", "complement_point_geo"),
    ("numeroVoie", "numero_voie"),
    ("indiceRepetitionVoie", "indice_repetition_voie"),
    ("codeTypeDeVoie", "code_type_voie"),
    ("libelleVoie", "libelle_voie"),
    ("mentionDistribution", "mention_distribution"),
    ("bureauCedex", "bureau_cedex"),
    ("codePostal", "code_postal"),
    ("codeCommune", "code_commune"),
    ("codePays", "code_pays"),
    ("telephone", "telephone"),
    ("telephone2", "telephone2"),
    ("telecopie", "telecopie"),
    ("adresseEMail", "email"),
    ("codeDepartement", "code_departement"),
    ("ancienIdentifiantDeLaStructure", "ancien_identifiant"),
    ("autoriteDenregistrement", "autorite_enregistrement"),
)

#: (claim, Exercice attribute), in PSC order; ``activities`` follows.
EXERCICE_CLAIMS = (
    ("codeProfession", "profession"),
    ("codeCategorieProfessionnelle", "category"),
    ("codeCiviliteDexercice", "civilite_exercice"),
    ("nomDexercice", "nom_exercice"),
    ("prenomDexercice", "prenom_exercice"),
    ("codeTypeSavoirFaire", "savoir_faire_type"),
    ("codeSavoirFaire", "savoir_faire"),
)


def _s(value: object) -> str:
    return "" if value is None else str(value)


def first_activity(practitioner: Practitioner) -> Activity | None:
    """First activity of the first exercice: the one PSC derives its summary claims from."""
    if not practitioner.exercices or not practitioner.exercices[0].activities:
        return None
    return practitioner.exercices[0].activities[0]


def display_names(practitioner: Practitioner) -> tuple[str, str]:
    """(given_name, family_name) as PSC sends them: the names of practice of the first
    exercice (``KIT`` / ``DOC0036624`` in samples), else the civil names."""
    exercice = practitioner.exercices[0] if practitioner.exercices else None
    given = exercice.prenom_exercice if exercice else ""
    family = exercice.nom_exercice if exercice else ""
    return given or practitioner.first_given_name, family or practitioner.family_name


def _basic_claims(practitioner: Practitioner, sub: str) -> dict[str, Any]:
    given_name, family_name = display_names(practitioner)
    return {
        "sub": sub,
        "SubjectNameID": practitioner.national_id,
        "preferred_username": practitioner.national_id,
        "given_name": given_name,
        "family_name": family_name,
        "email_verified": False,
    }


def _activity(activity: Activity, profile: str) -> dict[str, str]:
    return {
        claim: _s(getattr(activity, attribute))
        for claim, attribute in ACTIVITY_CLAIMS
        if not (profile == "2021" and claim == "codeGenreActivite")
    }


def _exercice(exercice: Exercice, profile: str) -> dict[str, Any]:
    claims: dict[str, Any] = {claim: _s(getattr(exercice, attr)) for claim, attr in EXERCICE_CLAIMS}
    claims["activities"] = [_activity(activity, profile) for activity in exercice.activities]
    return claims


def other_ids(practitioner: Practitioner) -> list[dict[str, Any]]:
    if practitioner.other_ids:
        return [
            {"identifiant": _s(o.identifiant), "origine": _s(o.origine), "qualite": int(o.qualite)}
            for o in practitioner.other_ids
        ]
    # PSC always lists at least the national id itself.
    nid = practitioner.national_id
    return [{"identifiant": nid, "origine": origin_of(nid), "qualite": 1}]


def _sectoral_claims(
    practitioner: Practitioner, auth_mode: str, palier: str, profile: str
) -> dict[str, Any]:
    activity = first_activity(practitioner)
    sector = activity.sector if activity else ""
    claims: dict[str, Any] = {
        "Secteur_Activite": f"{sector}^{SECTOR_OID}" if sector else "",
        "SubjectOrganization": _s(activity.raison_sociale) if activity else "",
        "SubjectOrganizationID": _s(activity.structure_id) if activity else "",
        "SubjectRole": [
            f"{e.profession}^{PROFESSION_OID}" for e in practitioner.exercices if e.profession
        ],
        "Mode_Acces_Raison": "",
        "Acces_Regulation_Medicale": "FAUX",
        "UITVersion": "1.0",
        "authMode": auth_mode,
        "Palier_Authentification": palier,
        "PSI_Locale": PSI_LOCALE,
    }
    if profile == "2023":
        claims["codeCivilite"] = _s(practitioner.civility)
        claims["codeGenreActivite"] = _s(activity.genre) if activity else ""
    claims["SubjectRefPro"] = {
        "codeCivilite": _s(practitioner.civility),
        "exercices": [_exercice(exercice, profile) for exercice in practitioner.exercices],
    }
    if profile != "2021":
        claims["otherIds"] = other_ids(practitioner)
    return claims


def build_userinfo(
    practitioner: Practitioner,
    *,
    sub: str,
    auth_mode: str,
    palier: str,
    scopes: Iterable[str],
    profile: str = "current",
    standard: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """UserInfo claims of ``practitioner`` for a token with ``scopes``.

    ``standard`` are the claims the other granted scopes add (``name``, ``email``…), placed
    after the basic ones and before the sectoral ones. ``profile`` is ``current`` (default),
    ``2023`` or ``2021``; anything else is a configuration error and raises ``ValueError``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown userinfo profile {profile!r}; expected one of {PROFILES}")
    claims = _basic_claims(practitioner, sub)
    claims.update(standard or {})
    if SECTORAL_SCOPES.isdisjoint(scopes):
        return claims
    claims.update(_sectoral_claims(practitioner, auth_mode, palier, profile))
    return claims
