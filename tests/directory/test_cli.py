from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from psc_idp.config import PSC_SUB_PREFIX
from psc_idp.directory.cli import directory_cli


@pytest.fixture
def runner(app: Flask, demo: Any) -> FlaskCliRunner:
    app.cli.add_command(directory_cli)
    return app.test_cli_runner()  # Click 8.2+: stdout and stderr apart


def test_show_json_prints_the_card_userinfo(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["directory", "show", "899700366240", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["sub"] == PSC_SUB_PREFIX + "899700366240"
    assert document["authMode"] == "CARD"
    assert document["Palier_Authentification"] == "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
    assert document["SubjectOrganizationID"] == "R95141"
    assert document["otherIds"][0]["qualite"] == 1


def test_show_without_json_adds_a_french_summary(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["directory", "show", "899700427885"])
    assert result.exit_code == 0, result.output
    summary, _, document = result.stdout.partition("{")
    assert "Nom : Dr Kit DOC0042788" in summary
    assert "Statut : actif" in summary
    assert "Médecin — Qualifié en médecine générale" in summary
    assert "HOPITAL GENERIQUE FIN VARI" in summary
    assert json.loads("{" + document)["SubjectNameID"] == "899700427885"


def test_show_inactive_says_login_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["directory", "show", "899700101225"])
    assert result.exit_code == 0
    assert "inactif (connexion refusée)" in result.stdout


def test_show_follows_the_configured_profile(app: Flask, runner: FlaskCliRunner) -> None:
    app.extensions["psc_settings"].userinfo_profile = "2021"
    result = runner.invoke(args=["directory", "show", "899700366240", "--json"])
    assert "otherIds" not in json.loads(result.stdout)


@pytest.mark.parametrize(
    ("national_id", "message"),
    [("899700101480", "Aucun professionnel"), ("899700366241", "clé de contrôle")],
)
def test_show_unknown_or_invalid_id_fails(
    runner: FlaskCliRunner, national_id: str, message: str
) -> None:
    result = runner.invoke(args=["directory", "show", national_id])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
