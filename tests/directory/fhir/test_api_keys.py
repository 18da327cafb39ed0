"""``ESANTE-API-KEY``: open until a key exists, then required; keys managed by the CLI and
stored as keyed hashes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from psc_idp.directory.fhir.models import ApiKey
from psc_idp.extensions import db
from tests.directory.fhir.conftest import fhir_get, search


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def key(runner: FlaskCliRunner) -> Iterator[str]:
    result = runner.invoke(args=["directory", "api-key", "add", "cabinet-test"])
    assert result.exit_code == 0, result.output
    assert "elle ne sera plus affichée" in result.stderr
    yield result.stdout.strip()
    runner.invoke(args=["directory", "api-key", "remove", "cabinet-test"])


def test_without_keys_the_api_is_open(client: FlaskClient) -> None:
    search(client, "/fhir/v1/Practitioner?_count=1")


def test_missing_or_wrong_key_is_401(client: FlaskClient, key: str) -> None:
    for headers in ({}, {"ESANTE-API-KEY": "wrong"}, {"ESANTE-API-KEY": key + "x"}):
        outcome = fhir_get(client, "/fhir/v1/Practitioner?_count=1", status=401, **headers)
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "login"
        fhir_get(client, "/fhir/v1/Organization/F0B0690117", status=401, **headers)
    fhir_get(client, "/fhir/v1/Practitioner?_count=1", status=401, **{"ESANTE-API-KEY": "a" * 300})
    # Even a request that is otherwise wrong learns nothing without a key.
    fhir_get(client, "/fhir/v1/Practitioner?nope=1", status=401)
    # The CapabilityStatement stays readable, as FHIR servers publish it.
    fhir_get(client, "/fhir/v1/metadata")


def test_the_right_key_opens_the_api(client: FlaskClient, key: str) -> None:
    bundle = search(client, "/fhir/v1/Practitioner?_count=1", **{"ESANTE-API-KEY": key})
    assert bundle["total"] > 0


def test_only_a_keyed_hash_is_stored_and_list_never_shows_the_key(
    app: Flask, runner: FlaskCliRunner, key: str
) -> None:
    with app.app_context():
        [stored] = db.session.scalars(select(ApiKey)).all()
        assert stored.label == "cabinet-test"
        assert key not in stored.key_hash and len(stored.key_hash) == 64
    listing = runner.invoke(args=["directory", "api-key", "list"])
    assert "cabinet-test" in listing.output and key not in listing.output
    again = runner.invoke(args=["directory", "api-key", "add", "cabinet-test"])
    assert again.exit_code == 1 and "existe déjà" in again.stderr


def test_a_removed_key_stops_working_at_once(client: FlaskClient, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["directory", "api-key", "add", "a"]).stdout.strip()
    second = runner.invoke(args=["directory", "api-key", "add", "b"]).stdout.strip()
    try:
        assert runner.invoke(args=["directory", "api-key", "remove", "a"]).exit_code == 0
        fhir_get(client, "/fhir/v1/Practitioner?_count=1", status=401, **{"ESANTE-API-KEY": first})
        search(client, "/fhir/v1/Practitioner?_count=1", **{"ESANTE-API-KEY": second})
    finally:
        runner.invoke(args=["directory", "api-key", "remove", "b"])
    missing = runner.invoke(args=["directory", "api-key", "remove", "a"])
    assert missing.exit_code == 1 and "Aucune clé" in missing.stderr
    assert "Aucune clé" in runner.invoke(args=["directory", "api-key", "list"]).output


def test_a_key_needs_a_printable_label(runner: FlaskCliRunner) -> None:
    for label in ("  ", "a" * 101, "tab\there"):
        result = runner.invoke(args=["directory", "api-key", "add", label])
        assert result.exit_code == 1 and "Nom de clé invalide" in result.stderr
    assert "Aucune clé" in runner.invoke(args=["directory", "api-key", "list"]).output
