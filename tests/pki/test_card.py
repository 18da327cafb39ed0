"""Card certificates as psc-reference §9 describes them, parsed back field by field, and
their export as PEM files and PKCS#12."""

from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from flask import Flask
from sqlalchemy import select

from psc_idp.extensions import db
from psc_idp.pki import PkiError, UnknownPractitioner, get_hierarchy, issue_card
from psc_idp.pki.models import PkiCertificate

DOCTOR = "899700218896"
STAFF = "30B0193488/SAMA0001"
UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
SMARTCARD_LOGON = ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def _single(rdn: x509.RelativeDistinguishedName) -> tuple[ObjectIdentifier, str]:
    (attribute,) = list(rdn)
    return attribute.oid, attribute.value


def test_card_subject_ends_with_a_multi_valued_rdn(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    db.session.commit()
    cert = x509.load_der_x509_certificate(issued.certificate.public_bytes(Encoding.DER))
    rdns = list(cert.subject.rdns)
    assert [_single(rdn) for rdn in rdns[:4]] == [
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.ORGANIZATION_NAME, "CABINET M SPECIALISTE0021889"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "499700218896001"),  # ancienIdentifiantDeLaStructure
        (NameOID.TITLE, "Médecin"),
    ]
    person = rdns[4]
    assert len(rdns) == 5 and len(person) == 3
    assert {(a.oid, a.value) for a in person} == {
        (NameOID.GIVEN_NAME, "ROBERT"),
        (NameOID.COMMON_NAME, DOCTOR),
        (NameOID.SURNAME, "SPECIALISTE0021889"),
    }
    assert issued.subject_dn == (
        "GN=ROBERT+CN=899700218896+SN=SPECIALISTE0021889,title=Médecin,OU=499700218896001,"
        "O=CABINET M SPECIALISTE0021889,C=FR"
    )


def test_card_issuer_is_the_personnes_ca(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    personnes = get_hierarchy().personnes.certificate
    assert issued.certificate.issuer == personnes.subject
    issued.certificate.verify_directly_issued_by(personnes)
    assert issued.certificate.issuer.rfc4514_string() == (
        "CN=TEST AC IGC-SANTE ELEMENTAIRE PERSONNES,OU=IGC-SANTE TEST,OU=0002 187512751,"
        "O=ASIP-SANTE,C=FR"
    )


def test_card_extensions(ctx: Flask) -> None:
    cert = issue_card(DOCTOR).certificate
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not (usage.value.key_encipherment or usage.value.key_cert_sign)
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH,
        SMARTCARD_LOGON,
    ]
    (other,) = list(_ext(cert, x509.SubjectAlternativeName).value)
    assert isinstance(other, x509.OtherName) and other.type_id == UPN
    upn = b"899700218896@carte-cps.fr"
    assert other.value == bytes([0x0C, len(upn)]) + upn  # DER UTF8String
    (point,) = list(_ext(cert, x509.CRLDistributionPoints).value)
    assert point.full_name == [
        x509.UniformResourceIdentifier("http://localhost:8080/pki/crl/personnes.crl")
    ]
    assert _ext(cert, x509.BasicConstraints).value.ca is False
    ski = _ext(get_hierarchy().personnes.certificate, x509.SubjectKeyIdentifier).value
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ski.digest
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def test_every_card_is_recorded(ctx: Flask) -> None:
    issued = issue_card(DOCTOR, validity_days=30)
    db.session.commit()
    row = db.session.scalars(
        select(PkiCertificate).where(PkiCertificate.serial == issued.serial)
    ).one()
    assert (row.kind, row.issuer_slug, row.national_id) == ("card", "personnes", DOCTOR)
    assert row.structure_id == "499700218896001"
    assert row.subject_dn == issued.subject_dn
    assert row.revoked_at is None and row.status() == "valid"
    assert row.sha256_thumbprint == issued.sha256_thumbprint
    assert 29 <= (row.not_after - row.not_before).days <= 30
    assert int(row.serial, 16) == issued.certificate.serial_number


def test_unknown_practitioner_gets_no_card(ctx: Flask) -> None:
    with pytest.raises(UnknownPractitioner):
        issue_card("810100022408")


def test_dates_must_fall_within_the_issuing_ca(ctx: Flask) -> None:
    personnes = get_hierarchy().personnes.certificate
    with pytest.raises(PkiError):
        issue_card(DOCTOR, not_before=personnes.not_valid_before_utc - timedelta(days=1))
    with pytest.raises(PkiError):
        issue_card(DOCTOR, not_after=personnes.not_valid_after_utc + timedelta(days=1))
    now = datetime.now(UTC)
    with pytest.raises(PkiError):
        issue_card(DOCTOR, not_before=now, not_after=now - timedelta(days=1))


def test_pem_files_and_pkcs12(ctx: Flask, tmp_path: Path) -> None:
    issued = issue_card(DOCTOR)
    paths = issued.write_files(tmp_path, p12_password="s3cret")
    assert {p.name for p in paths.values()} == {
        f"{DOCTOR}.crt.pem",
        f"{DOCTOR}.key.pem",
        f"{DOCTOR}.chain.pem",
        f"{DOCTOR}.p12",
    }
    assert stat.S_IMODE(paths["private_key"].stat().st_mode) == 0o600
    hierarchy = get_hierarchy()
    chain = x509.load_pem_x509_certificates(paths["chain"].read_bytes())
    assert chain == [hierarchy.personnes.certificate, hierarchy.root.certificate]
    bundle = pkcs12.load_pkcs12(paths["pkcs12"].read_bytes(), b"s3cret")
    assert bundle.cert.certificate == issued.certificate
    assert bundle.cert.friendly_name == b"CPS 899700218896"
    assert bundle.key.public_key() == issued.certificate.public_key()
    assert [c.certificate for c in bundle.additional_certs] == chain
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(paths["pkcs12"].read_bytes(), b"wrong")


@pytest.mark.parametrize("encryption", ["compat", "modern"])
def test_pkcs12_encryptions_load_back(ctx: Flask, encryption: str) -> None:
    issued = issue_card(DOCTOR)
    data = issued.pkcs12("1234", encryption)
    assert pkcs12.load_pkcs12(data, b"1234").cert.certificate == issued.certificate


def test_staff_card_ids_with_a_slash_make_safe_file_names(ctx: Flask, tmp_path: Path) -> None:
    issued = issue_card(STAFF)
    assert issued.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STAFF
    paths = issued.write_files(tmp_path, p12_password="1234")
    assert paths["certificate"] == tmp_path / "30B0193488_SAMA0001.crt.pem"
    assert sorted(p.parent for p in paths.values()) == [tmp_path] * 4


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")
def test_openssl_verifies_an_issued_card(ctx: Flask, tmp_path: Path) -> None:
    issued = issue_card(DOCTOR)
    paths = issued.write_files(tmp_path, p12_password="1234")
    hierarchy = get_hierarchy()
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            str(hierarchy.root.cert_path),
            "-untrusted",
            str(hierarchy.personnes.cert_path),
            str(paths["certificate"]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": OK")
    # The legacy-compatible PKCS#12 opens with OpenSSL 3 without its legacy provider.
    opened = subprocess.run(
        ["openssl", "pkcs12", "-in", str(paths["pkcs12"]), "-passin", "pass:1234", "-nokeys"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.count("BEGIN CERTIFICATE") == 3
