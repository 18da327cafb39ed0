from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.models import Activity, Exercice, OtherId, Practitioner
from psc_idp.directory.realm_io import (
    export_practitioners,
    practitioner_to_dict,
    read_entry,
    upsert_practitioners,
)
from psc_idp.extensions import db

MINIMAL = {"national_id": "899700100151", "family_name": "LEFEBVRE", "given_names": ["CLAIRE"]}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every directory table, ids and timestamps included."""
    return {
        model.__tablename__: [
            tuple(row) for row in db.session.execute(select(model.__table__).order_by("id"))
        ]
        for model in (Practitioner, Exercice, Activity, OtherId)
    }


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_import_creates_every_row(demo: list[dict[str, Any]]) -> None:
    assert count(Practitioner) == len(demo) >= 12
    assert count(Exercice) == sum(len(p.get("exercices", [])) for p in demo)
    expected = sum(len(e.get("activities", [])) for p in demo for e in p.get("exercices", []))
    assert count(Activity) == expected


def test_importing_twice_changes_nothing(demo: list[dict[str, Any]]) -> None:
    before = snapshot()
    assert upsert_practitioners(copy.deepcopy(demo)) == 0
    db.session.commit()
    db.session.expire_all()
    assert snapshot() == before


def test_first_import_counts_every_practitioner(app: Any, demo_items: list[dict[str, Any]]) -> None:
    assert upsert_practitioners(demo_items) == len(demo_items)


def test_changes_are_applied_in_place(demo: list[dict[str, Any]]) -> None:
    items = copy.deepcopy(demo)
    target = next(p for p in items if p["national_id"] == "899700100722")
    activities = target["exercices"][0]["activities"]
    activities[0]["raison_sociale"] = "CHU DE TEST MARSEILLE LA TIMONE"
    del activities[2]
    target["phone"] = "06 00 00 00 99"
    ids_before = [a.id for a in find_practitioner("899700100722").exercices[0].activities]

    assert upsert_practitioners(items) == 1
    db.session.commit()
    db.session.expire_all()

    practitioner = find_practitioner("899700100722")
    activities_after = practitioner.exercices[0].activities
    assert practitioner.phone == "06 00 00 00 99"
    assert [a.raison_sociale for a in activities_after] == [
        "CHU DE TEST MARSEILLE LA TIMONE",
        "CLINIQUE DE TEST DU PRADO",
    ]
    assert [a.id for a in activities_after] == ids_before[:2]
    assert [a.position for a in activities_after] == [0, 1]
    assert count(Activity) == sum(
        len(e.get("activities", [])) for p in items for e in p.get("exercices", [])
    )


def test_removing_exercices_deletes_orphans(demo: Any) -> None:
    before = count(Activity)
    upsert_practitioners([{**MINIMAL, "national_id": "899700100805"}])
    db.session.commit()
    assert find_practitioner("899700100805").exercices == []
    assert count(Activity) == before - 2


def test_round_trip_export_import(demo: Any) -> None:
    exported = export_practitioners()
    for table in (OtherId, Activity, Exercice, Practitioner):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    assert count(Practitioner) == 0

    assert upsert_practitioners(exported) == len(exported)
    db.session.commit()
    assert export_practitioners() == exported
    # And the exported form describes the same data as the demo file.
    assert [read_entry(p) for p in exported] == sorted(
        (read_entry(p) for p in demo), key=lambda e: e["national_id"]
    )


def test_export_is_compact(demo: Any) -> None:
    entry = practitioner_to_dict(find_practitioner("899700366240"))
    assert "active" not in entry and "other_ids" not in entry
    activity = entry["exercices"][0]["activities"][0]
    assert "siret" not in activity and "code_commune" not in activity["address"]
    assert activity["address"]["complement_destinataire"] == "CABINET M DOC"
    inactive = practitioner_to_dict(find_practitioner("899700101225"))
    assert inactive["active"] is False


def test_minimal_entry_defaults_to_empty_strings(app: Any) -> None:
    upsert_practitioners([{**MINIMAL, "exercices": [{"profession": "21", "activities": [{}]}]}])
    practitioner = find_practitioner("899700100151")
    activity = practitioner.exercices[0].activities[0]
    assert practitioner.active is True and practitioner.id_type == "8"
    assert practitioner.email == "" and practitioner.birth_date is None
    assert practitioner.birth_place is None
    assert activity.sector == "" and activity.code_postal == "" and activity.structure_id == ""


def test_given_names_are_stored_psc_style(app: Any) -> None:
    upsert_practitioners([{**MINIMAL, "given_names": ["ANNE", "CATHERINE"]}])
    practitioner = find_practitioner("899700100151")
    assert practitioner.given_names == "ANNE'CATHERINE"
    assert practitioner.given_name_list == ["ANNE", "CATHERINE"]
    upsert_practitioners([{**MINIMAL, "given_names": "ANNE'CATHERINE'"}])
    assert find_practitioner("899700100151").given_name_list == ["ANNE", "CATHERINE"]


def test_import_does_not_commit(app: Any) -> None:
    upsert_practitioners([MINIMAL])
    db.session.rollback()
    assert find_practitioner("899700100151") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"national_id": "899700100152"}, "899700100152.*clé de contrôle"),
        ({"family_name": ""}, "899700100151.*family_name"),
        ({"given_names": []}, "899700100151.*given_names"),
        ({"civility": "MR"}, "899700100151.*civility"),
        ({"active": "yes"}, "899700100151.*active"),
        ({"birth_date": "12/04/1968"}, "899700100151.*birth_date"),
        ({"phone": 600000001}, "899700100151.*phone.*guillemets"),
        ({"family_name": "X" * 201}, "899700100151.*200"),
        ({"nickname": "Clo"}, "899700100151.*nickname"),
        ({"exercices": [{"category": "C"}]}, r"899700100151.*exercices\[0\]\.profession"),
        ({"exercices": [{"profession": 21}]}, "899700100151.*profession"),
        (
            {"exercices": [{"profession": "21", "activities": [{"address": {"zip": "1"}}]}]},
            "899700100151.*zip",
        ),
        ({"other_ids": [{"identifiant": "X", "qualite": "1"}]}, "899700100151.*qualite"),
    ],
)
def test_invalid_entries_name_the_practitioner(
    app: Any, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        upsert_practitioners([{**MINIMAL, **change}])
    assert count(Practitioner) == 0


def test_entry_without_national_id_is_named_by_position(app: Any) -> None:
    with pytest.raises(ValueError, match="n°2"):
        upsert_practitioners([MINIMAL, {"family_name": "X", "given_names": ["Y"]}])


def test_duplicates_are_refused(app: Any) -> None:
    with pytest.raises(ValueError, match="899700100151.*deux fois"):
        upsert_practitioners([MINIMAL, {**MINIMAL, "national_id": " 899700100151"}])


def test_not_a_list_is_refused(app: Any) -> None:
    with pytest.raises(ValueError, match="liste"):
        upsert_practitioners({"practitioners": []})  # type: ignore[arg-type]
