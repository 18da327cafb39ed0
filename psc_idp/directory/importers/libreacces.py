"""The open-data file ``PS_LibreAcces_Personne_activite_<yyyymmddhhmm>.txt``.

56 columns, codes each followed by their label; the older 52-column form lacks the role and
the genre of activity (the last four). The file carries the names of practice only.
"""

from __future__ import annotations

from psc_idp.directory.importers.tabular import (
    ID_TYPE,
    IGNORED,
    LOCAL_ID,
    NATIONAL_ID,
    Layout,
)

_ = IGNORED
_COMMON = (
    ("Type d'identifiant PP", ID_TYPE),
    ("Identifiant PP", LOCAL_ID),
    ("Identification nationale PP", NATIONAL_ID),
    ("Code civilité d'exercice", ("exercice", "civilite_exercice")),
    ("Libellé civilité d'exercice", _),
    ("Code civilité", ("civil", "civility")),
    ("Libellé civilité", _),
    ("Nom d'exercice", ("exercice", "nom_exercice")),
    ("Prénom d'exercice", ("exercice", "prenom_exercice")),
    ("Code profession", ("exercice", "profession")),
    ("Libellé profession", _),
    ("Code catégorie professionnelle", ("exercice", "category")),
    ("Libellé catégorie professionnelle", _),
    ("Code type savoir-faire", ("exercice", "savoir_faire_type")),
    ("Libellé type savoir-faire", _),
    ("Code savoir-faire", ("exercice", "savoir_faire")),
    ("Libellé savoir-faire", _),
    ("Code mode exercice", ("activity", "mode")),
    ("Libellé mode exercice", _),
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
    ("Libellé type de voie (coord. structure)", _),
    ("Libellé Voie (coord. structure)", ("activity", "libelle_voie")),
    ("Mention distribution (coord. structure)", ("activity", "mention_distribution")),
    ("Bureau cedex (coord. structure)", ("activity", "bureau_cedex")),
    ("Code postal (coord. structure)", ("activity", "code_postal")),
    ("Code commune (coord. structure)", ("activity", "code_commune")),
    ("Libellé commune (coord. structure)", _),
    ("Code pays (coord. structure)", ("activity", "code_pays")),
    ("Libellé pays (coord. structure)", _),
    ("Téléphone (coord. structure)", ("activity", "telephone")),
    ("Téléphone 2 (coord. structure)", ("activity", "telephone2")),
    ("Télécopie (coord. structure)", ("activity", "telecopie")),
    ("Adresse e-mail (coord. structure)", ("activity", "email")),
    ("Code Département (structure)", ("activity", "code_departement")),
    ("Libellé Département (structure)", _),
    ("Ancien identifiant de la structure", ("activity", "ancien_identifiant")),
    ("Autorité d'enregistrement", ("activity", "autorite_enregistrement")),
    ("Code secteur d'activité", ("activity", "sector")),
    ("Libellé secteur d'activité", _),
    ("Code section tableau pharmaciens", ("activity", "pharmacist_section")),
    ("Libellé section tableau pharmaciens", _),
)
_ROLE_AND_GENRE = (
    ("Code rôle", ("activity", "role")),
    ("Libellé rôle", _),
    ("Code genre activité", ("activity", "genre")),
    ("Libellé genre activité", _),
)

LIBREACCES_56 = Layout("libreacces", "56 colonnes", (*_COMMON, *_ROLE_AND_GENRE))
LIBREACCES_52 = Layout("libreacces", "52 colonnes (ancienne forme)", _COMMON)
LAYOUTS = (LIBREACCES_56, LIBREACCES_52)
