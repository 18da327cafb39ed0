"""verify_client_certificate: a valid card is accepted with what relying parties need; each
failure has its own reason."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from flask import Flask

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.pki import (
    CertificateRejected,
    certs,
    get_hierarchy,
    issue_card,
    issue_org,
    revoke,
    verify_client_certificate,
)
from psc_idp.pki.names import card_subject, upn_other_name
from tests.pki.helpers import DOCTOR, ForeignCa

INACTIVE = "899700101225"
NOT_IN_DIRECTORY = "810100022408"


def _rejected(cert, reason: str, **kwargs) -> CertificateRejected:
    with pytest.raises(CertificateRejected) as caught:
        verify_client_certificate(cert, **kwargs)
    assert caught.value.reason == reason, caught.value
    assert caught.value.message_fr
    return caught.value


def test_a_valid_card_is_accepted(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    db.session.commit()
    verified = verify_client_certificate(issued.certificate)
    assert verified.national_id == DOCTOR
    assert verified.purpose == "card" and verified.from_test_pki
    assert verified.serial == format(issued.certificate.serial_number, "x")
    assert verified.subject_dn == issued.subject_dn
    assert verified.issuer_dn.startswith("CN=TEST AC IGC-SANTE ELEMENTAIRE PERSONNES,")
    assert verified.sans == {"upn": ("899700218896@carte-cps.fr",)}
    assert verified.structure_id == "499700218896001"
    digest = hashlib.sha256(issued.certificate.public_bytes(Encoding.DER)).digest()
    assert verified.sha256_thumbprint == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    hierarchy = get_hierarchy()
    assert verified.chain == (
        issued.certificate,
        hierarchy.personnes.certificate,
        hierarchy.root.certificate,
    )


def test_certificates_are_read_in_the_forms_proxies_send(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    pem = issued.certificate_pem().decode()
    der = issued.certificate.public_bytes(Encoding.DER)
    for form in (pem, pem.encode(), der, quote(pem), base64.b64encode(der).decode()):
        assert verify_client_certificate(form).national_id == DOCTOR
    # With the chain the client sent (PEM bundle), as a TLS terminator passes it on.
    assert verify_client_certificate(pem, [issued.chain_pem()]).national_id == DOCTOR
    assert verify_client_certificate(der, issued.chain_pem().decode()).national_id == DOCTOR


def test_garbage_is_not_a_certificate(ctx: Flask) -> None:
    _rejected("not a certificate", "untrusted_chain")
    _rejected(b"\x30\x03\x02\x01\x00", "untrusted_chain")


def test_expired(ctx: Flask) -> None:
    now = datetime.now(UTC)
    issued = issue_card(
        DOCTOR, not_before=now - timedelta(days=10), not_after=now - timedelta(days=1)
    )
    assert "expiré" in _rejected(issued.certificate, "expired").message_fr


def test_not_yet_valid(ctx: Flask) -> None:
    now = datetime.now(UTC)
    issued = issue_card(
        DOCTOR, not_before=now + timedelta(days=1), not_after=now + timedelta(days=30)
    )
    _rejected(issued.certificate, "not_yet_valid")


def test_a_card_from_a_foreign_ca_is_untrusted(ctx: Flask) -> None:
    _rejected(ForeignCa().card(DOCTOR), "untrusted_chain")


def test_a_certificate_signed_by_a_card_is_untrusted(ctx: Flask) -> None:
    """A card holder's key cannot act as a CA, even with a valid chain above it."""
    holder = issue_card(DOCTOR)
    signer = certs.Signer(holder.certificate.subject, holder.private_key, holder.certificate)
    key = certs.new_key()
    forged = certs.build(
        subject=holder.certificate.subject,
        public_key=key.public_key(),
        signer=signer,
        window=certs.validity(days=30),
        extensions=certs.leaf_extensions(
            [ExtendedKeyUsageOID.CLIENT_AUTH], certs.key_usage(digital_signature=True)
        ),
        crl=None,
    )
    _rejected(forged, "untrusted_chain", chain=[holder.certificate])


def test_wrong_key_usage(ctx: Flask) -> None:
    encipher_only = certs.key_usage(key_encipherment=True)
    _rejected(issue_card(DOCTOR, key_usage_override=encipher_only).certificate, "wrong_key_usage")
    server_only = [ExtendedKeyUsageOID.SERVER_AUTH]
    _rejected(issue_card(DOCTOR, eku_override=server_only).certificate, "wrong_key_usage")
    _rejected(issue_card(DOCTOR, eku_override=[]).certificate, "wrong_key_usage")


def test_revoked_card(ctx: Flask) -> None:
    issued = issue_card(DOCTOR)
    db.session.commit()
    verify_client_certificate(issued.certificate)
    assert [row.serial for row in revoke(issued.serial)] == [issued.serial]
    db.session.commit()
    _rejected(issued.certificate, "revoked")


def _card_for_someone_not_in_the_directory() -> x509.Certificate:
    """Signed by the PERSONNES CA, but for a national id the directory does not know."""
    personnes = get_hierarchy().personnes
    key = certs.new_key()
    subject = card_subject(
        national_id=NOT_IN_DIRECTORY,
        given_name="JEAN",
        surname="INCONNU",
        organization="CABINET",
        structure_id="499700000000001",
        title="Médecin",
    )
    extensions = certs.leaf_extensions(
        [ExtendedKeyUsageOID.CLIENT_AUTH], certs.key_usage(digital_signature=True)
    )
    extensions.append((x509.SubjectAlternativeName([upn_other_name(NOT_IN_DIRECTORY)]), False))
    return certs.build(
        subject=subject,
        public_key=key.public_key(),
        signer=personnes.signer,
        window=certs.validity(days=30),
        extensions=extensions,
        crl=None,
    )


def test_unknown_national_id(ctx: Flask) -> None:
    _rejected(_card_for_someone_not_in_the_directory(), "unknown_identity")


def test_inactive_practitioner(ctx: Flask) -> None:
    issued = issue_card(INACTIVE)
    assert INACTIVE in _rejected(issued.certificate, "inactive").message_fr


def test_test_pki_can_be_distrusted(ctx: Flask, settings: Settings, monkeypatch) -> None:
    issued = issue_card(DOCTOR)
    monkeypatch.setattr(settings, "pki_trust_test_pki", False, raising=False)
    _rejected(issued.certificate, "untrusted_chain")


def test_org_certificate(ctx: Flask) -> None:
    issued = issue_org("R95141", "CABINET M DOC0036624", "DPI CABINET")
    db.session.commit()
    verified = verify_client_certificate(issued.certificate, purpose="org")
    assert verified.national_id is None
    assert verified.structure_id == "R95141"
    assert verified.subject_dn == "CN=DPI CABINET,OU=R95141,O=CABINET M DOC0036624,C=FR"
    assert verified.issuer_dn.startswith("CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS,")
    assert verified.sans == {}
    issued.certificate.verify_directly_issued_by(get_hierarchy().organisations.certificate)


def test_a_certificate_is_only_good_for_its_purpose(ctx: Flask) -> None:
    card = issue_card(DOCTOR).certificate
    org = issue_org("R95141", "CABINET M DOC0036624").certificate
    _rejected(card, "untrusted_chain", purpose="org")
    _rejected(org, "untrusted_chain", purpose="card")


def test_a_revoked_org_certificate(ctx: Flask) -> None:
    issued = issue_org("R95141", "CABINET M DOC0036624")
    revoke(issued.serial)
    db.session.commit()
    _rejected(issued.certificate, "revoked", purpose="org")
