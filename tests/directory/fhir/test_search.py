"""Each search parameter, checked against the directory read directly (in Python)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from psc_idp.directory.models import Activity, Practitioner
from psc_idp.extensions import db
from tests.directory.fhir.conftest import STUDENT_ID, resources, search

G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"


def everyone(app: Flask) -> list[Practitioner]:
    with app.app_context():
        found = list(db.session.scalars(select(Practitioner).order_by(Practitioner.id)))
        db.session.expunge_all()
        return found


def all_of(client: FlaskClient, url: str) -> tuple[int, list[dict]]:
    """Every match of a search, following ``next`` links."""
    bundle = search(client, url)
    found, total = resources(bundle), bundle["total"]
    while next_link := [link["url"] for link in bundle["link"] if link["relation"] == "next"]:
        bundle = search(client, next_link[0].removeprefix("http://localhost"))
        assert bundle["total"] == total
        found += resources(bundle)
    return total, found


def _ids(found: list[dict]) -> list[str]:
    return [resource["id"] for resource in found]


def test_family_given_and_name_start_with_the_value_without_regard_to_case(
    app: Flask, client: FlaskClient
) -> None:
    people = everyone(app)
    prefix = people[-5].family_name[:3]
    expected = [str(p.id) for p in people if p.family_name.lower().startswith(prefix.lower())]
    total, found = all_of(client, f"/fhir/v1/Practitioner?family={prefix.lower()}&_count=7")
    assert total == len(expected) and _ids(found) == expected
    exact = search(client, f"/fhir/v1/Practitioner?family:exact={prefix}")
    assert exact["total"] == sum(p.family_name == prefix for p in people)
    # A second given name matches too (given names are stored "'"-separated).
    [student] = resources(search(client, "/fhir/v1/Practitioner?given=marie&family=etud"))
    assert student["identifier"][0]["value"] == STUDENT_ID
    assert search(client, "/fhir/v1/Practitioner?given:exact=MARIE")["total"] == sum(
        "MARIE" in p.given_name_list for p in people
    )
    by_name = search(client, "/fhir/v1/Practitioner?name=léa")
    assert STUDENT_ID in [r["identifier"][0]["value"] for r in resources(by_name)]
    contains = search(client, "/fhir/v1/Practitioner?family:contains=TUDIANT")
    assert [r["identifier"][0]["value"] for r in resources(contains)] == [STUDENT_ID]


def test_wildcards_in_a_value_are_taken_literally(client: FlaskClient) -> None:
    assert search(client, "/fhir/v1/Practitioner?family=%25")["total"] == 0
    assert search(client, "/fhir/v1/Practitioner?family=_")["total"] == 0


def test_active(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.execute(
            update(Practitioner).where(Practitioner.national_id == STUDENT_ID).values(active=False)
        )
        db.session.commit()
    try:
        people = everyone(app)
        expected = [p.national_id for p in people if not p.active]
        assert STUDENT_ID in expected
        inactive = search(client, "/fhir/v1/Practitioner?active=false")
        assert [r["identifier"][0]["value"] for r in resources(inactive)] == expected
        assert {r["active"] for r in resources(inactive)} == {False}
        active = search(client, "/fhir/v1/Practitioner?active=true&_count=0")
        assert active["total"] == len(people) - len(expected)
        roles = search(client, "/fhir/v1/PractitionerRole?active=false")
        assert {r["active"] for r in resources(roles)} == {False}
        assert f"{people[-1].id}-0" in [r["id"] for r in resources(roles)]
    finally:
        with app.app_context():
            db.session.execute(
                update(Practitioner)
                .where(Practitioner.national_id == STUDENT_ID)
                .values(active=True)
            )
            db.session.commit()


def test_last_updated_prefixes(app: Flask, client: FlaskClient) -> None:
    moment = datetime(2020, 5, 17, 10, 30, tzinfo=UTC)
    with app.app_context():
        db.session.execute(
            update(Practitioner)
            .where(Practitioner.national_id == STUDENT_ID)
            .values(updated_at=moment)
        )
        db.session.commit()
    everybody = len(everyone(app))
    for query, expected in (
        ("2020", 1),
        ("2020-05", 1),
        ("2020-05-17", 1),
        ("2020-05-17T12:30:00%2B02:00", 1),
        ("2020-05-18", 0),
        ("lt2021", 1),
        ("le2020-05-17", 1),
        ("lt2020-05-17", 0),
        ("gt2020-05-17", everybody - 1),
        ("ge2020-05-17", everybody),
    ):
        bundle = search(client, f"/fhir/v1/Practitioner?_lastUpdated={query}&_count=0")
        assert bundle["total"] == expected, query
    later = (moment + timedelta(days=1)).date().isoformat()
    assert search(client, f"/fhir/v1/PractitionerRole?_lastUpdated=lt{later}")["total"] == 1


def test_id(app: Flask, client: FlaskClient) -> None:
    first, second = everyone(app)[:2]
    bundle = search(client, f"/fhir/v1/Practitioner?_id={first.id},{second.id},zzz")
    assert _ids(resources(bundle)) == [str(first.id), str(second.id)]


def test_role_is_the_profession_code(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = list(db.session.scalars(select(Practitioner)))
        expected = sum(
            max(len(e.activities), 1) for p in people for e in p.exercices if e.profession == "21"
        )
    total, found = all_of(client, f"/fhir/v1/PractitionerRole?role={G15}|21&_count=50")
    assert total == expected > 0 and len(found) == expected
    for role in found:
        assert {"system": G15, "code": "21", "display": "Pharmacien"} in role["code"][0]["coding"]
    assert search(client, "/fhir/v1/PractitionerRole?role=21")["total"] == expected
    assert search(client, "/fhir/v1/PractitionerRole?role=urn:x|21")["total"] == 0


def test_specialty(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = list(db.session.scalars(select(Practitioner)))
        expected = sum(
            max(len(e.activities), 1)
            for p in people
            for e in p.exercices
            if e.savoir_faire == "SM26"
        )
    bundle = search(client, f"/fhir/v1/PractitionerRole?specialty={R38}|SM26&_count=0")
    assert bundle["total"] == expected > 0


def test_organization_and_practitioner_of_roles(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        expected = len(
            db.session.scalars(select(Activity).where(Activity.structure_id == "F0B0690117")).all()
        )
    for ref in ("F0B0690117", "Organization/F0B0690117"):
        bundle = search(client, f"/fhir/v1/PractitionerRole?organization={ref}")
        assert bundle["total"] == expected == 2
        assert {r["organization"]["reference"] for r in resources(bundle)} == {
            "Organization/F0B0690117"
        }
    person = everyone(app)[0]
    bundle = search(client, f"/fhir/v1/PractitionerRole?practitioner=Practitioner/{person.id}")
    assert {r["practitioner"]["reference"] for r in resources(bundle)} == {
        f"Practitioner/{person.id}"
    }


def test_organization_name_and_type(app: Flask, client: FlaskClient) -> None:
    bundle = search(client, "/fhir/v1/Organization?name=cabinet m specialiste")
    assert _ids(resources(bundle)) == ["R94021"]
    with app.app_context():
        expected = len(
            set(
                db.session.scalars(
                    select(Activity.structure_id).where(
                        Activity.sector == "SA33", Activity.structure_id != ""
                    )
                )
            )
        )
    sector = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
    assert search(client, f"/fhir/v1/Organization?type={sector}|SA33")["total"] == expected > 0
    assert search(client, "/fhir/v1/Organization?type=LEGAL-ENTITY")["total"] == 0
    finess = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203|FINEG|0B0690117"
    assert _ids(
        resources(search(client, f"/fhir/v1/Organization?identifier:of-type={finess}"))
    ) == ["F0B0690117"]


@pytest.mark.parametrize("kind", ["Practitioner", "PractitionerRole", "Organization"])
def test_paging_with_next_links_gives_everyone_once(client: FlaskClient, kind: str) -> None:
    total, found = all_of(client, f"/fhir/v1/{kind}?_count=13")
    assert len(found) == total > 13
    assert len(set(_ids(found))) == total
    whole = search(client, f"/fhir/v1/{kind}?_count=500")
    assert _ids(resources(whole)) == _ids(found)


def test_count_zero_gives_the_total_only_and_count_is_capped(client: FlaskClient) -> None:
    bundle = search(client, "/fhir/v1/Practitioner?_count=0")
    assert bundle["total"] > 0 and "entry" not in bundle
    default = search(client, "/fhir/v1/Practitioner")
    assert len(resources(default)) == 50


def test_include_role_targets(client: FlaskClient) -> None:
    bundle = search(client, "/fhir/v1/PractitionerRole?organization=F0B0690117&_include=*")
    included = resources(bundle, "include")
    kinds = sorted(r["resourceType"] for r in included)
    assert kinds == ["Organization", "Practitioner", "Practitioner"]
    references = {r["practitioner"]["reference"] for r in resources(bundle)}
    assert {
        f"Practitioner/{r['id']}" for r in included if r["resourceType"] == "Practitioner"
    } == references
    only = search(
        client,
        "/fhir/v1/PractitionerRole?organization=F0B0690117&_include=PractitionerRole:organization",
    )
    assert [r["id"] for r in resources(only, "include")] == ["F0B0690117"]


def test_revinclude_roles_on_practitioner(app: Flask, client: FlaskClient) -> None:
    query = "identifier=899700427885&_revinclude=PractitionerRole:practitioner"
    bundle = search(client, f"/fhir/v1/Practitioner?{query}")
    [person] = resources(bundle)
    roles = resources(bundle, "include")
    assert sorted(r["id"] for r in roles) == [f"{person['id']}-0-0", f"{person['id']}-0-1"]
    assert bundle["total"] == 1  # included resources are not counted


def test_revinclude_roles_on_organization(app: Flask, client: FlaskClient) -> None:
    query = "_id=F0B0690117&_revinclude=PractitionerRole:organization"
    bundle = search(client, f"/fhir/v1/Organization?{query}")
    assert [r["id"] for r in resources(bundle)] == ["F0B0690117"]
    roles = resources(bundle, "include")
    with app.app_context():
        expected = len(
            db.session.scalars(select(Activity).where(Activity.structure_id == "F0B0690117")).all()
        )
    assert len(roles) == expected == 2
    assert {r["organization"]["reference"] for r in roles} == {"Organization/F0B0690117"}
