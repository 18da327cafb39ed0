"""What a scenario may say: each refusal names what is wrong."""

from __future__ import annotations

import pytest

from psc_idp.devtools.scenarios.rules import ScenarioInvalid, check

DOCTOR = "899700218896"


@pytest.mark.parametrize(
    ("endpoint", "effect", "value", "message"),
    [
        ("logout", "error", "invalid_request", "point d'accès inconnu « logout »"),
        ("token", "explode", "x", "effet inconnu « explode »"),
        ("authorize", "error", "invalid_token", "non prévue au point d'accès authorize"),
        ("userinfo", "error", "invalid_grant", "non prévue au point d'accès userinfo"),
        ("token", "error", "login_required", "non prévue au point d'accès token"),
        ("token", "status", "200", "hors limites : de 400 à 599"),
        ("token", "status", "600", "hors limites"),
        ("token", "status", "503.5", "hors limites"),
        ("token", "status", "abc", "un nombre est attendu"),
        ("token", "delay", "31", "de 0 à 30 secondes"),
        ("token", "delay", "0", "de 0 à 30 secondes"),
        ("token", "delay", "nan", "un nombre est attendu"),
        ("token", "drop_claim", "a b", "nom de claim « a b » invalide"),
        ("token", "drop_claim", "", "nom de claim"),
        ("token", "rename_claim", "acr", "attendu ANCIEN=NOUVEAU"),
        ("token", "rename_claim", "acr=acr", "le nouveau nom est l'ancien"),
        ("token", "rename_claim", "acr=bad name", "nom de claim « bad name »"),
        ("userinfo", "acr", "eidas1", "ne s'applique qu'à : token"),
        ("token", "acr", "two words", "1 à 64 caractères visibles"),
        ("token", "userinfo_profile", "2021", "ne s'applique qu'à : userinfo"),
        ("userinfo", "userinfo_profile", "current", "attendu 2023, 2021"),
        ("ciba", "ciba_outcome", "approved", "attendu denied, expired"),
        ("authorize", "expired_token", True, "ne s'applique qu'à : token"),
        ("token", "wrong_signature", "yes", "ne prend pas de valeur"),
    ],
)
def test_refusals_say_why(endpoint, effect, value, message):
    with pytest.raises(ScenarioInvalid) as refused:
        check("rp", None, endpoint, effect, value)
    assert message in str(refused.value)


def test_a_bad_national_id_is_refused():
    with pytest.raises(ScenarioInvalid):
        check("rp", "99-not-an-id", "token", "error", "invalid_grant")


def test_values_are_normalised():
    assert check("rp", DOCTOR, "token", "status", "503").value == "503"
    assert check("rp", None, "token", "delay", "2.50").value == "2.5"
    assert check("rp", None, "token", "expired_token", True).value == ""
    spec = check("rp", DOCTOR, "userinfo", "rename_claim", "SubjectNameID=nationalId")
    assert (spec.national_id, spec.value) == (DOCTOR, "SubjectNameID=nationalId")
    # Every endpoint takes the errors of its RFC.
    assert check("rp", None, "ciba", "error", "unknown_user_id").value == "unknown_user_id"
    assert check("rp", None, "introspect", "error", "invalid_client").value == "invalid_client"
