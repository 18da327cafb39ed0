from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from psc_idp import prepared_sql
from psc_idp.directory.lookup import find_practitioner, search_practitioners, summary
from psc_idp.directory.reading import read_practitioner
from psc_idp.directory.realm_io import upsert_practitioners
from psc_idp.directory.userinfo import build_userinfo
from psc_idp.extensions import db


def test_find_by_exact_national_id(demo: Any) -> None:
    practitioner = find_practitioner("899700218896")
    assert practitioner is not None and practitioner.family_name == "SPECIALISTE0021889"
    assert find_practitioner("89970021889") is None
    assert find_practitioner("") is None


def test_find_returns_inactive_practitioners_too(demo: Any) -> None:
    practitioner = find_practitioner("899700101225")
    assert practitioner is not None and practitioner.active is False


def test_find_staff_card_identity(demo: Any) -> None:
    practitioner = find_practitioner("30B0193488/SAMA0001")
    assert practitioner is not None and practitioner.id_type == "3"


def ids(results: list[Any]) -> list[str]:
    return [p.national_id for p in results]


def test_search_by_national_id_prefix(demo: list[dict[str, Any]]) -> None:
    expected = {p["national_id"] for p in demo if p["national_id"].startswith("89970010")}
    assert len(expected) >= 10
    assert set(ids(search_practitioners("89970010"))) == expected
    assert ids(search_practitioners("899700218896")) == ["899700218896"]
    assert ids(search_practitioners("30b0")) == ["30B0193488/SAMA0001"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lefebvre", ["899700100151"]),
        ("LeFeB", ["899700100151"]),
        ("doc00", ["899700366240", "899700427885"]),
        ("catherine", []),
        ("CLAIRE", ["899700100151"]),
        ("%", []),
        ("_", []),
    ],
)
def test_search_by_name_is_case_insensitive(demo: Any, query: str, expected: list[str]) -> None:
    assert ids(search_practitioners(query)) == expected


def test_search_orders_by_family_name_and_limits(demo: list[dict[str, Any]]) -> None:
    everyone = search_practitioners()
    assert len(everyone) == len(demo)
    names = [p.family_name for p in everyone]
    assert names == sorted(names)
    assert ids(search_practitioners(limit=3)) == ids(everyone)[:3]
    assert len(search_practitioners(limit=0)) == 1


def test_summary_for_the_login_picker(demo: Any) -> None:
    assert summary(find_practitioner("899700366240")) == {
        "national_id": "899700366240",
        "display_name": "Dr Kit DOC0036624",
        "profession_label": "Médecin",
        "savoir_faire_label": "Qualifié en médecine générale",
        "structure": "CABINET M DOC0036624",
        "active": True,
    }
    professor = summary(find_practitioner("899700100722"))
    assert professor["display_name"] == "Pr Pierre DURAND"
    assert professor["savoir_faire_label"] == "Cardiologie et maladies vasculaires"
    staff = summary(find_practitioner("30B0193488/SAMA0001"))
    assert staff["profession_label"] == "Secrétaire assistante médico-administrative"
    assert summary(find_practitioner("899700101225"))["active"] is False


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    prepared_sql.statement_observers.append(statements.append)  # those run on the cursor
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        prepared_sql.statement_observers.remove(statements.append)


def _practitioner(national_id: str, exercices: int, activities: int) -> dict[str, Any]:
    return {
        "national_id": national_id,
        "family_name": "CHARGE",
        "given_names": ["TEST"],
        "other_ids": [{"identifiant": national_id, "origine": "RPPS", "qualite": 1}],
        "exercices": [
            {
                "profession": "10",
                "activities": [
                    {"sector": "SA07", "raison_sociale": f"CABINET {e}-{a}"}
                    for a in range(activities)
                ],
            }
            for e in range(exercices)
        ],
    }


def _statements_to_build_userinfo(national_id: str) -> tuple[int, dict[str, Any]]:
    db.session.expunge_all()  # nothing cached: every row must come from the database
    with counting_statements() as statements:
        practitioner = find_practitioner(national_id)
        document = build_userinfo(
            practitioner, sub="s", auth_mode="CARD", palier="p", scopes={"openid", "scope_all"}
        )
    return len(statements), document


def test_userinfo_costs_a_fixed_number_of_queries(app: Any) -> None:
    upsert_practitioners([_practitioner("899700100151", 1, 1), _practitioner("899700100235", 2, 3)])
    db.session.commit()

    small, small_document = _statements_to_build_userinfo("899700100151")
    large, large_document = _statements_to_build_userinfo("899700100235")

    exercices = large_document["SubjectRefPro"]["exercices"]
    assert [len(e["activities"]) for e in exercices] == [3, 3]
    assert len(small_document["SubjectRefPro"]["exercices"]) == 1
    assert small == large
    assert large <= 4  # practitioner, exercices, activities, other ids


def _read_statements(national_id: str) -> tuple[int, dict[str, Any]]:
    with counting_statements() as statements:
        practitioner = read_practitioner(national_id)
        document = build_userinfo(
            practitioner, sub="s", auth_mode="CARD", palier="p", scopes={"openid", "scope_all"}
        )
    return len(statements), document


def test_read_practitioner_costs_two_queries_whatever_its_activities(app: Any) -> None:
    upsert_practitioners([_practitioner("899700100151", 1, 1), _practitioner("899700100235", 2, 3)])
    db.session.commit()
    small, _ = _read_statements("899700100151")
    large, document = _read_statements("899700100235")
    assert small == large == 2
    exercices = document["SubjectRefPro"]["exercices"]
    assert [len(e["activities"]) for e in exercices] == [3, 3]
    assert read_practitioner("899700100999") is None and read_practitioner("") is None


@pytest.mark.parametrize("profile", ["current", "2023", "2021"])
def test_read_practitioner_gives_the_same_userinfo_as_the_model(demo: Any, profile: str) -> None:
    for item in demo:
        national_id = item["national_id"]
        model, record = find_practitioner(national_id), read_practitioner(national_id)
        assert record is not None and record.active == model.active
        assert record.first_given_name == model.first_given_name
        options = {"sub": "s", "auth_mode": "CARD", "palier": "p", "profile": profile}
        scopes = {"openid", "scope_all"}
        assert build_userinfo(record, scopes=scopes, **options) == build_userinfo(
            model, scopes=scopes, **options
        )
