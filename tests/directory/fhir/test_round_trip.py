"""What the API serves is what ``psc-idp directory import --format fhir`` reads: the
directory exported page by page and imported elsewhere gives the same exercices and
activities."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from psc_idp.config import Settings
from psc_idp.directory.importers import run_import
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from tests.directory.fhir.conftest import search

#: What an import from the API must give back, per activity.
COMPARED = (
    "mode",
    "sector",
    "structure_id",
    "raison_sociale",
    "ancien_identifiant",
    "finess_site",
    "finess_juridique",
    "siret",
    "genre",
    "role",
)


def _shape(person: Practitioner) -> list:
    return [
        (
            e.profession,
            e.category,
            e.savoir_faire,
            e.nom_exercice,
            e.civilite_exercice,
            [tuple(getattr(a, c) for c in COMPARED) for a in e.activities],
        )
        for e in person.exercices
    ]


def test_the_api_output_imports_back_to_the_same_directory(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    wanted = ["899700427885", "899700100151", "899700101308"]
    lines = []
    for national_id in wanted:
        query = f"identifier={national_id}&_revinclude=PractitionerRole:practitioner"
        bundle = search(client, f"/fhir/v1/Practitioner?{query}")
        for entry in bundle["entry"]:
            lines.append(entry["resource"])
            if entry["resource"]["resourceType"] == "PractitionerRole":
                role = entry["resource"]
                if "organization" in role:
                    ref = role["organization"]["reference"]
                    lines.append(client.get(f"/fhir/v1/{ref}").get_json(force=True))
    export = tmp_path / "export.ndjson"
    export.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    with app.app_context():
        expected = {
            p.national_id: _shape(p)
            for p in db.session.scalars(
                select(Practitioner).where(Practitioner.national_id.in_(wanted))
            )
        }

    other = Flask(__name__)
    other.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    db.init_app(other)
    other.extensions["psc_settings"] = Settings()
    with other.app_context():
        tables = [t for t in db.metadata.sorted_tables if t.name.startswith("dir_")]
        db.metadata.create_all(db.engine, tables=tables)
        summary = run_import(export, wanted="fhir")
        assert summary.rejected == 0
        imported = {p.national_id: _shape(p) for p in db.session.scalars(select(Practitioner))}
        db.session.remove()
    assert imported == expected
