"""The whole server on a database of its own, holding a synthetic directory (300 rows of a
LibreAcces file, imported), the demo realm's practitioners and a student without activity."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from flask.testing import FlaskClient

from psc_idp.directory import synth
from psc_idp.directory.importers import run_import
from psc_idp.directory.models import Exercice, Practitioner
from psc_idp.extensions import db
from tests.conftest import _fresh_postgres, create_app_for_tests
from tests.directory.import_files import rpps

FHIR_JSON = "application/fhir+json; charset=utf-8"
#: A practitioner whose only exercice has no activity (a role without organization).
STUDENT_ID = rpps(4242)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("fhir")
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    url = _fresh_postgres(base, "fhir") if base else f"sqlite:///{folder / 'fhir.sqlite3'}"
    app = create_app_for_tests(
        {"database_url": url, "keys_dir": str(keys_dir), "dev_mode": True, "realm_file": ""}
    )
    with app.app_context():
        source = synth.write_file(folder / "annuaire.txt", "libreacces", 300, seed=7)
        run_import(source)
        student = Practitioner(
            national_id=STUDENT_ID,
            family_name="ETUDIANTE",
            given_names="LÉA'MARIE",
            civility="MME",
        )
        student.exercices.append(Exercice(profession="10", category="E"))
        db.session.add(student)
        db.session.commit()
        db.session.remove()
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def parse(resource: dict[str, Any]) -> Any:
    """The resource read back by the FHIR library (raises if it is not valid FHIR)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def fhir_get(client: FlaskClient, url: str, status: int = 200, **headers: str) -> dict[str, Any]:
    """GET ``url``; the answer must be FHIR JSON with ``status``, and valid FHIR."""
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == FHIR_JSON
    document = response.get_json(force=True)
    parse(document)
    return document


def search(client: FlaskClient, url: str, **headers: str) -> dict[str, Any]:
    bundle = fhir_get(client, url, **headers)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    return bundle


def resources(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]
