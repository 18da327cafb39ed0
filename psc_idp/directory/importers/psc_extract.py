"""PSC's restricted extract ``Extraction_ProSanteConnect_Personne_activite_<ts>.txt``.

Codes only (no labels), plus the civil status and contact data PSC needs (e-CPS activation
by e-mail and SMS): 49 columns; the 51-column form adds ``Autres identifiants``
(``id,origine,qualite;…``, the source of ``otherIds``) and ``Code genre d'activité``.
Given names are ``'``-separated (``ANNE'CATHERINE'``).
"""

from __future__ import annotations

from psc_idp.directory.importers.tabular import (
    ID_TYPE,
    LOCAL_ID,
    NATIONAL_ID,
    OTHER_IDS,
    Layout,
)

_COMMON = (
    ("Type d'identifiant PP", ID_TYPE),
    ("Identifiant PP", LOCAL_ID),
    ("Identification nationale PP", NATIONAL_ID),
    ("Nom de famille", ("civil", "family_name")),
    ("Prénoms", ("civil", "given_names")),
    ("Date de naissance", ("civil", "birth_date")),
    ("Code commune de naissance", ("civil", "birth_commune_code")),
    ("Code pays de naissance", ("civil", "birth_country_code")),
    ("Lieu de naissance", ("civil", "birth_place")),
    ("Code sexe", ("civil", "sex")),
    ("Téléphone (coord. correspondance)", ("civil", "phone")),
    ("Adresse e-mail (coord. correspondance)", ("civil", "email")),
    ("Code civilité", ("civil", "civility")),
    ("Code profession", ("exercice", "profession")),
    ("Code catégorie professionnelle", ("exercice", "category")),
    ("Code civilité d'exercice", ("exercice", "civilite_exercice")),
    ("Nom d'exercice", ("exercice", "nom_exercice")),
    ("Prénom d'exercice", ("exercice", "prenom_exercice")),
    ("Code type savoir-faire", ("exercice", "savoir_faire_type")),
    ("Code savoir-faire", ("exercice", "savoir_faire")),
    ("Code mode exercice", ("activity", "mode")),
    ("Code secteur d'activité", ("activity", "sector")),
    ("Code section tableau pharmaciens", ("activity", "pharmacist_section")),
    ("Code rôle", ("activity", "role")),
    ("Numéro SIRET site", ("activity", "siret")),
    ("Numéro SIREN site", ("activity", "siren")),
    ("Numéro FINESS site", ("activity", "finess_site")),
    ("Numéro FINESS établissement juridique", ("activity", "finess_juridique")),
    ("Identifiant technique de la structure", ("activity", "structure_id")),
    ("Raison sociale site", ("activity", "raison_sociale")),
    ("Enseigne commerciale site", ("activity", "enseigne")),
    ("Complément destinataire (coord. structure)", ("activity", "complement_destinataire")),
    ("Complément point géographique (coord. structure)", ("activity", "complement_point_geo")),
    ("Numéro Voie (coord. structure)", ("activity", "numero_voie")),
    ("Indice répétition voie (coord. structure)", ("activity", "indice_repetition_voie")),
    ("Code type de voie (coord. structure)", ("activity", "code_type_voie")),
    ("Libellé Voie (coord. structure)", ("activity", "libelle_voie")),
    ("Mention distribution (coord. structure)", ("activity", "mention_distribution")),
    ("Bureau cedex (coord. structure)", ("activity", "bureau_cedex")),
    ("Code postal (coord. structure)", ("activity", "code_postal")),
    ("Code commune (coord. structure)", ("activity", "code_commune")),
    ("Code pays (coord. structure)", ("activity", "code_pays")),
    ("Téléphone (coord. structure)", ("activity", "telephone")),
    ("Téléphone 2 (coord. structure)", ("activity", "telephone2")),
    ("Télécopie (coord. structure)", ("activity", "telecopie")),
    ("Adresse e-mail (coord. structure)", ("activity", "email")),
    ("Code Département (structure)", ("activity", "code_departement")),
    ("Ancien identifiant de la structure", ("activity", "ancien_identifiant")),
    ("Autorité d'enregistrement", ("activity", "autorite_enregistrement")),
)
_EXTRA = (
    ("Autres identifiants", OTHER_IDS),
    ("Code genre d'activité", ("activity", "genre")),
)

PSC_EXTRACT_51 = Layout("psc-extract", "51 colonnes", (*_COMMON, *_EXTRA))
PSC_EXTRACT_49 = Layout("psc-extract", "49 colonnes", _COMMON)
LAYOUTS = (PSC_EXTRACT_51, PSC_EXTRACT_49)
