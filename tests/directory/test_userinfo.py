from __future__ import annotations

import json
from typing import Any

import pytest

from psc_idp.config import PSC_SUB_PREFIX
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.directory.userinfo import build_userinfo
from psc_idp.extensions import db

PALIER = "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
FULL = {"openid", "scope_all"}

# The UserInfo sample of the reference (§5), verbatim.
REFERENCE_SAMPLE = json.loads(
    """
{
  "sub": "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700366240",
  "SubjectNameID": "899700366240", "preferred_username": "899700366240",
  "given_name": "KIT", "family_name": "DOC0036624", "email_verified": false,
  "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
  "SubjectOrganization": "CABINET M DOC0036624", "SubjectOrganizationID": "R95141",
  "SubjectRole": ["10^1.2.250.1.213.1.1.5.5"],
  "Mode_Acces_Raison": "", "Acces_Regulation_Medicale": "FAUX", "UITVersion": "1.0",
  "authMode": "CARD", "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
  "PSI_Locale": "1.2.250.1.213.1.3.1.1",
  "SubjectRefPro": {
    "codeCivilite": "M",
    "exercices": [{
      "codeProfession": "10", "codeCategorieProfessionnelle": "C",
      "codeCiviliteDexercice": "DR", "nomDexercice": "DOC0036624", "prenomDexercice": "KIT",
      "codeTypeSavoirFaire": "S", "codeSavoirFaire": "SM26",
      "activities": [{
        "codeModeExercice": "L", "codeSecteurDactivite": "SA07", "codeSectionPharmacien": "",
        "codeRole": "", "codeGenreActivite": "GENR01", "numeroSiretSite": "", "numeroSirenSite": "",
        "numeroFinessSite": "", "numeroFinessetablissementJuridique": "",
        "identifiantTechniqueDeLaStructure": "R95141", "raisonSocialeSite": "CABINET M DOC0036624",
        "enseigneCommercialeSite": "", "complementDestinataire": "CABINET M DOC",
        "complementPointGeographique": "", "numeroVoie": "1", "indiceRepetitionVoie": "",
        "codeTypeDeVoie": "R", "libelleVoie": "NOIR", "mentionDistribution": "",
        "bureauCedex": "75009 PARIS", "codePostal": "75009", "codeCommune": "", "codePays": "99000",
        "telephone": "", "telephone2": "", "telecopie": "", "adresseEMail": "",
        "codeDepartement": "", "ancienIdentifiantDeLaStructure": "499700366240007",
        "autoriteDenregistrement": "CNOM/CNOM/CNOM"
      }]
    }]
  },
  "otherIds": [{"identifiant": "899700366240", "origine": "RPPS", "qualite": 1}]
}
"""
)


def userinfo(national_id: str, scopes: set[str] = FULL, **kwargs: Any) -> dict[str, Any]:
    practitioner = find_practitioner(national_id)
    assert practitioner is not None
    options = {"auth_mode": "CARD", "palier": PALIER, **kwargs}
    return build_userinfo(practitioner, sub=PSC_SUB_PREFIX + national_id, scopes=scopes, **options)


def assert_same_document(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal values, equal types (int is not str, False is not 0) and the same key order."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys differ"
        for key in expected:
            assert_same_document(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: lengths differ"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_document(a, e, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_reference_sample_is_reproduced_key_by_key(demo: Any) -> None:
    document = userinfo("899700366240")
    assert_same_document(document, REFERENCE_SAMPLE)
    assert json.dumps(document) == json.dumps(REFERENCE_SAMPLE)


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _walk(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _walk(item)]
    return [value]


@pytest.mark.parametrize("profile", ["current", "2023", "2021"])
def test_no_null_anywhere_in_any_demo_userinfo(demo: list[dict[str, Any]], profile: str) -> None:
    for item in demo:
        document = userinfo(item["national_id"].upper(), profile=profile)
        assert None not in _walk(document), item["national_id"]
        assert all(isinstance(v, str | bool | int) for v in _walk(document))


def test_every_exercice_and_activity_is_returned(demo: Any) -> None:
    document = userinfo("899700100805")
    exercices = document["SubjectRefPro"]["exercices"]
    assert [e["codeProfession"] for e in exercices] == ["10", "40"]
    assert [len(e["activities"]) for e in exercices] == [1, 1]
    assert document["SubjectRole"] == ["10^1.2.250.1.213.1.1.5.5", "40^1.2.250.1.213.1.1.5.5"]
    # Summary claims come from the first activity of the first exercice.
    assert document["SubjectOrganization"] == "CHU DE TEST STRASBOURG"
    assert document["SubjectOrganizationID"] == "F0B0670024"
    assert document["Secteur_Activite"] == "SA01^1.2.250.1.71.4.2.4"


def test_activities_keep_their_order(demo: Any) -> None:
    activities = userinfo("899700100722")["SubjectRefPro"]["exercices"][0]["activities"]
    assert [a["codeSecteurDactivite"] for a in activities] == ["SA01", "SA04", "SA05"]
    assert [a["codeModeExercice"] for a in activities] == ["S", "L", "S"]
    assert activities[2]["numeroSiretSite"] == "90034567900014"


def test_liberal_and_hospital_activities_of_427885(demo: Any) -> None:
    activities = userinfo("899700427885")["SubjectRefPro"]["exercices"][0]["activities"]
    hospital = activities[1]
    assert hospital["numeroFinessSite"] == "0B0193488"
    assert hospital["numeroFinessetablissementJuridique"] == "1B0064166"
    assert hospital["autoriteDenregistrement"] == "CNOM/CNOM/ARS"


def test_pharmacist_section_and_role(demo: Any) -> None:
    activity = userinfo("899700100151")["SubjectRefPro"]["exercices"][0]["activities"][0]
    assert (activity["codeSectionPharmacien"], activity["codeRole"]) == ("A", "FON-03")
    assert activity["codeSecteurDactivite"] == "SA33"


def test_declared_other_ids_are_returned_with_integer_qualite(demo: Any) -> None:
    assert userinfo("899700100490")["otherIds"] == [
        {"identifiant": "899700100490", "origine": "RPPS", "qualite": 1},
        {"identifiant": "0996012345", "origine": "ADELI", "qualite": 1},
    ]


def test_adeli_identity_gets_an_adeli_other_id(demo: Any) -> None:
    assert userinfo("0999600123")["otherIds"] == [
        {"identifiant": "0999600123", "origine": "ADELI", "qualite": 1}
    ]


def test_basic_scope_shape(demo: Any) -> None:
    document = userinfo("899700366240", scopes={"openid"})
    assert document == {
        "sub": PSC_SUB_PREFIX + "899700366240",
        "SubjectNameID": "899700366240",
        "preferred_username": "899700366240",
        "given_name": "KIT",
        "family_name": "DOC0036624",
        "email_verified": False,
    }
    assert list(document) == list(REFERENCE_SAMPLE)[:6]


def test_rpps_scope_also_unlocks_sectoral_claims(demo: Any) -> None:
    document = userinfo("899700366240", scopes={"openid", "rpps"})
    assert document["SubjectRefPro"] == REFERENCE_SAMPLE["SubjectRefPro"]


def test_auth_mode_and_palier_are_passed_through(demo: Any) -> None:
    document = userinfo("899700366240", auth_mode="MOBILE", palier="X^1.2")
    assert (document["authMode"], document["Palier_Authentification"]) == ("MOBILE", "X^1.2")


def test_profile_2021_has_no_other_ids_nor_genre(demo: Any) -> None:
    document = userinfo("899700427885", profile="2021")
    assert "otherIds" not in document
    assert "codeGenreActivite" not in document
    for activity in document["SubjectRefPro"]["exercices"][0]["activities"]:
        assert "codeGenreActivite" not in activity
        assert len(activity) == 29


def test_profile_2023_adds_top_level_civility_and_genre(demo: Any) -> None:
    document = userinfo("899700366240", profile="2023")
    assert document["codeCivilite"] == "M"
    assert document["codeGenreActivite"] == "GENR01"
    assert document["otherIds"] == REFERENCE_SAMPLE["otherIds"]
    keys = list(document)
    assert keys.index("PSI_Locale") < keys.index("codeCivilite") < keys.index("SubjectRefPro")
    assert {
        k: v for k, v in document.items() if k not in ("codeCivilite", "codeGenreActivite")
    } == (REFERENCE_SAMPLE)


def test_unknown_profile_is_a_configuration_error(demo: Any) -> None:
    with pytest.raises(ValueError, match="profile"):
        userinfo("899700366240", profile="2019")


def test_practitioner_without_exercice_gets_empty_strings(app: Any) -> None:
    upsert_practitioners(
        [{"national_id": "899700101480", "family_name": "SEUL", "given_names": ["ALEX"]}]
    )
    db.session.commit()
    document = userinfo("899700101480")
    assert document["given_name"] == "ALEX" and document["family_name"] == "SEUL"
    assert document["Secteur_Activite"] == ""
    assert document["SubjectOrganization"] == document["SubjectOrganizationID"] == ""
    assert document["SubjectRole"] == []
    assert document["SubjectRefPro"] == {"codeCivilite": "", "exercices": []}
