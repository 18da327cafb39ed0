"""``psc-idp cps issue|revoke|list`` and ``psc-idp pki issue-org|show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.pki.helpers import DOCTOR

STAFF = "30B0193488/SAMA0001"
PHARMACIST = "899700100235"


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def _json(runner: FlaskCliRunner, *args: str) -> object:
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cps_issue_writes_pem_and_pkcs12(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = _json(
        runner,
        "cps",
        "issue",
        DOCTOR,
        "--out",
        str(tmp_path),
        "--p12-password",
        "pw",
        "--days",
        "30",
    )
    assert out["national_id"] == DOCTOR
    assert out["subject"].startswith("GN=ROBERT+CN=899700218896+SN=")
    files = {kind: Path(path) for kind, path in out["files"].items()}
    assert sorted(p.name for p in files.values()) == sorted(
        f"{DOCTOR}{suffix}" for suffix in (".crt.pem", ".key.pem", ".chain.pem", ".p12")
    )
    cert = x509.load_pem_x509_certificate(files["certificate"].read_bytes())
    assert format(cert.serial_number, "x") == out["serial"]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30
    bundle = pkcs12.load_pkcs12(files["pkcs12"].read_bytes(), b"pw")
    assert bundle.cert.certificate == cert and len(bundle.additional_certs) == 2


def test_cps_issue_uses_the_default_password_and_safe_names(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    out = _json(runner, "cps", "issue", STAFF, "--out", str(tmp_path))
    assert out["p12_password"] == "1234"
    assert Path(out["files"]["pkcs12"]) == tmp_path / "30B0193488_SAMA0001.p12"
    pkcs12.load_pkcs12((tmp_path / "30B0193488_SAMA0001.p12").read_bytes(), b"1234")


def test_cps_issue_unknown_id_fails_in_french(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["cps", "issue", "810100022408", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Aucun professionnel" in result.output
    assert not list(tmp_path.iterdir())


def test_cps_list_and_revoke(runner: FlaskCliRunner, tmp_path: Path) -> None:
    first = _json(runner, "cps", "issue", PHARMACIST, "--out", str(tmp_path / "a"))
    second = _json(runner, "cps", "issue", PHARMACIST, "--out", str(tmp_path / "b"))
    listed = _json(runner, "cps", "list", PHARMACIST)
    assert [row["serial"] for row in listed] == [first["serial"], second["serial"]]
    assert {row["status"] for row in listed} == {"valid"}

    result = runner.invoke(args=["cps", "revoke", first["serial"], "--reason", "keyCompromise"])
    assert result.exit_code == 0, result.output
    assert f"révoqué : {first['serial']}" in result.stdout
    again = runner.invoke(args=["cps", "revoke", first["serial"]])
    assert again.exit_code == 1 and "Aucun certificat valide" in again.output

    result = runner.invoke(args=["cps", "revoke", PHARMACIST, "--json"])
    assert [row["serial"] for row in json.loads(result.stdout)] == [second["serial"]]
    text = runner.invoke(args=["cps", "list", PHARMACIST]).stdout
    assert text.count("révoqué") == 2 and PHARMACIST in text
    assert DOCTOR not in text


def test_pki_issue_org(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = _json(
        runner,
        "pki",
        "issue-org",
        "--structure-id",
        "R95141",
        "--name",
        "CABINET M DOC0036624",
        "--service",
        "DPI",
        "--out",
        str(tmp_path),
    )
    assert out["structure_id"] == "R95141"
    assert out["subject"] == "CN=DPI,OU=R95141,O=CABINET M DOC0036624,C=FR"
    assert Path(out["files"]["pkcs12"]) == tmp_path / "R95141-DPI.p12"
    missing = runner.invoke(args=["pki", "issue-org", "--structure-id", "R1", "--name", " "])
    assert missing.exit_code == 1


def test_pki_show(runner: FlaskCliRunner, pki_keys_dir: Path) -> None:
    shown = _json(runner, "pki", "show")
    slugs = [a["slug"] for a in shown["authorities"]]
    assert slugs == ["racine", "personnes", "organisations"]
    personnes = shown["authorities"][1]
    assert personnes["subject"].startswith("CN=TEST AC IGC-SANTE ELEMENTAIRE PERSONNES,")
    assert personnes["crl_url"] == "http://localhost:8080/pki/crl/personnes.crl"
    assert len(personnes["sha256"].split(":")) == 32
    server = shown["tls_server"]
    assert Path(server["certificate"]) == pki_keys_dir / "pki" / "server.crt.pem"
    assert Path(server["private_key"]).exists() and Path(server["fullchain"]).exists()
    assert server["names"] == ["localhost", "127.0.0.1", "::1"]
    text = runner.invoke(args=["pki", "show"]).stdout
    assert "TEST AC RACINE IGC-SANTE ELEMENTAIRE" in text


def test_cps_issue_with_dates_in_the_past_makes_an_expired_card(app, tmp_path):
    import json
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    from cryptography import x509

    result = app.test_cli_runner().invoke(
        args=[
            "cps",
            "issue",
            "899700218896",
            "--out",
            str(tmp_path),
            "--not-before",
            (today - timedelta(days=60)).isoformat(),
            "--not-after",
            (today - timedelta(days=30)).isoformat(),
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    pem = next(p for k, p in files.items() if "crt" in k or k == "certificate")
    certificate = x509.load_pem_x509_certificate(Path(pem).read_bytes())
    assert certificate.not_valid_after_utc.date() == today - timedelta(days=30)
