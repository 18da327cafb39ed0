"""The demo realm is useful test data: varied, valid, labelled and documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from psc_idp.directory import codes
from psc_idp.directory.national_id import validate_national_id

DOC = Path(__file__).resolve().parents[2] / "docs" / "test-identities.md"


def exercices(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for p in items for e in p.get("exercices", [])]


def activities(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for e in exercices(items) for a in e.get("activities", [])]


def test_demo_realm_is_varied(demo_items: list[dict[str, Any]]) -> None:
    ids = [p["national_id"] for p in demo_items]
    assert len(ids) >= 12 and len(set(ids)) == len(ids)
    assert {"899700218896", "899700366240", "899700427885"} <= set(ids)
    professions = {e["profession"] for e in exercices(demo_items)}
    assert {"10", "21", "40", "50", "60", "70", "91"} <= professions
    assert {i[0] for i in ids} == {"8", "0", "3"}
    assert [p["national_id"] for p in demo_items if p.get("active") is False]
    assert any(len(p.get("exercices", [])) > 1 for p in demo_items)
    assert any(len(e.get("activities", [])) > 1 for e in exercices(demo_items))


def test_rpps_ids_are_in_the_test_range_with_valid_keys(demo_items: list[dict[str, Any]]) -> None:
    for item in demo_items:
        national_id = validate_national_id(item["national_id"])
        assert national_id == item["national_id"]
        if national_id.startswith("8"):
            assert national_id.startswith("8997")


def test_every_practitioner_has_test_contact_data(demo_items: list[dict[str, Any]]) -> None:
    phones = [p["phone"] for p in demo_items]
    assert len(set(phones)) == len(phones)
    for item in demo_items:
        assert re.fullmatch(r"[a-z0-9.]+@example\.(org|com|net)", item["email"]), item
        assert re.fullmatch(r"06 00 00 00 \d\d", item["phone"]), item


def test_every_code_used_has_a_label(demo_items: list[dict[str, Any]]) -> None:
    for exercice in exercices(demo_items):
        assert codes.profession_label(exercice["profession"]) != exercice["profession"]
        savoir_faire = exercice.get("savoir_faire", "")
        assert codes.label(codes.SAVOIR_FAIRE, savoir_faire) != savoir_faire or not savoir_faire
    for activity in activities(demo_items):
        for table, key in ((codes.MODES, "mode"), (codes.SECTORS, "sector")):
            assert activity[key] in table
        assert activity.get("genre", "GENR01") in codes.GENRES
        assert activity.get("role", "FON-01") in codes.ROLES
        assert activity.get("pharmacist_section", "A") in codes.PHARMACIST_SECTIONS


def test_documentation_lists_exactly_the_demo_identities(demo_items: list[dict[str, Any]]) -> None:
    documented = re.findall(r"^\| `([0-9A-Z/]+)` \|", DOC.read_text(encoding="utf-8"), re.M)
    assert documented == [p["national_id"] for p in demo_items]
