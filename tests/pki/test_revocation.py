"""Revocation: the register is the truth, CRLs are rebuilt at once, signed by the issuing CA,
numbered upwards, and a second instance on the same database serves the same revocations."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from flask import Flask
from sqlalchemy import select

from psc_idp.extensions import db
from psc_idp.pki import (
    CertificateRejected,
    PkiError,
    get_hierarchy,
    issue_card,
    revoke,
    verify_client_certificate,
)
from psc_idp.pki.models import PkiCertificate
from tests.pki.conftest import build_app
from tests.pki.helpers import DOCTOR

NURSE = "899700100151"


def _served_crl(app: Flask, slug: str = "personnes") -> x509.CertificateRevocationList:
    response = app.test_client().get(f"/pki/crl/{slug}.crl")
    assert response.status_code == 200
    assert response.mimetype == "application/pkix-crl"
    return x509.load_der_x509_crl(response.data)


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_served_crl_lists_a_revoked_card_signed_by_personnes(app: Flask) -> None:
    with app.app_context():
        issued = issue_card(DOCTOR)
        db.session.commit()
        personnes = get_hierarchy().personnes.certificate
    before = _served_crl(app)
    assert before.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is None
    with app.app_context():
        revoke(issued.serial, x509.ReasonFlags.key_compromise)
        db.session.commit()
    crl = _served_crl(app)
    entry = crl.get_revoked_certificate_by_serial_number(issued.certificate.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.issuer == personnes.subject
    assert crl.is_signature_valid(personnes.public_key())
    assert _number(crl) > _number(before)
    assert crl.next_update_utc > crl.last_update_utc


def test_a_national_id_revokes_all_valid_cards_of_that_person(app: Flask) -> None:
    with app.app_context():
        cards = [issue_card(NURSE), issue_card(NURSE)]
        db.session.commit()
        revoked = revoke(NURSE)
        db.session.commit()
        assert sorted(r.serial for r in revoked) == sorted(c.serial for c in cards)
        for card in cards:
            with pytest.raises(CertificateRejected) as caught:
                verify_client_certificate(card.certificate)
            assert caught.value.reason == "revoked"
        rows = db.session.scalars(
            select(PkiCertificate).where(PkiCertificate.national_id == NURSE)
        ).all()
        assert {r.status() for r in rows} == {"revoked"}
        assert revoke(NURSE) == []  # nothing left to revoke
    crl = _served_crl(app)
    for card in cards:
        assert crl.get_revoked_certificate_by_serial_number(card.certificate.serial_number)


def test_unknown_serial_or_id_is_an_error(ctx: Flask) -> None:
    with pytest.raises(PkiError):
        revoke("abcdef0123456789")
    with pytest.raises(PkiError):
        revoke("810100022408")


def test_serials_are_accepted_with_colons_and_upper_case(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    db.session.commit()
    hexa = issued.serial.upper().rjust(40, "0")
    spaced = ":".join(hexa[i : i + 2] for i in range(0, len(hexa), 2))
    assert [r.serial for r in revoke(spaced)] == [issued.serial]
    db.session.commit()


def test_root_crl_is_served_and_empty(app: Flask) -> None:
    crl = _served_crl(app, "racine")
    with app.app_context():
        root = get_hierarchy().root.certificate
    assert crl.is_signature_valid(root.public_key()) and len(crl) == 0


def test_a_second_instance_serves_the_same_revocations(
    app: Flask, pki_database_url: str, pki_keys_dir: Path
) -> None:
    other = build_app(pki_database_url, pki_keys_dir)
    with app.app_context():
        issued = issue_card(DOCTOR)
        db.session.commit()
    with other.app_context():
        verify_client_certificate(issued.certificate)  # valid for the other instance too
    with app.app_context():
        revoke(issued.serial)
        db.session.commit()
    crl = _served_crl(other)
    assert crl.get_revoked_certificate_by_serial_number(issued.certificate.serial_number)
    with other.app_context(), pytest.raises(CertificateRejected) as caught:
        verify_client_certificate(issued.certificate)
    assert caught.value.reason == "revoked"
    # Numbers keep growing whichever instance rebuilds the CRL.
    with other.app_context():
        revoke(issue_card(DOCTOR).serial)
        db.session.commit()
    assert _number(_served_crl(app)) > _number(crl)
