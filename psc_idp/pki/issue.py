"""Issuing test certificates: CPS cards (from the directory) and ORG AUTH_CLI.

Every certificate issued is recorded in ``pki_certificate`` (flushed, not committed: the caller
commits, as everywhere in psc-idp). Keys are RSA 2048, as on CPS cards."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from psc_idp.config import current_settings
from psc_idp.directory import codes
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.models import Activity
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.directory.userinfo import display_names, first_activity
from psc_idp.extensions import db
from psc_idp.pki import certs
from psc_idp.pki.errors import PkiError, UnknownPractitioner
from psc_idp.pki.export import IssuedCertificate
from psc_idp.pki.hierarchy import Authority, Hierarchy, get_hierarchy
from psc_idp.pki.models import PkiCertificate
from psc_idp.pki.names import (
    SMARTCARD_LOGON_OID,
    card_subject,
    dn_string,
    org_subject,
    serial_hex,
    sha256_thumbprint,
    upn_other_name,
)
from psc_idp.pki.settings import pki_setting

CARD_EKU = [ExtendedKeyUsageOID.CLIENT_AUTH, SMARTCARD_LOGON_OID]
DEFAULT_SERVICE_NAME = "ORG AUTH_CLI"


def structure_id_of(activity: Activity | None) -> str:
    """The structure id a card carries in its OU: ``ancienIdentifiantDeLaStructure`` (1+FINESS,
    3+SIRET, 4+RPPS cabinet…), else the technical id (R…, F…) when the former is empty."""
    if activity is None:
        return ""
    return activity.ancien_identifiant or activity.structure_id


def issue_card(
    national_id: str,
    *,
    validity_days: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage_override: x509.KeyUsage | None = None,
    eku_override: list[ObjectIdentifier] | None = None,
) -> IssuedCertificate:
    """A CPS card authentication certificate for the practitioner ``national_id`` (active or
    not: an inactive one is how tests exercise the refusal). The overrides make deliberately
    wrong certificates for tests; ``eku_override=[]`` leaves the extension out."""
    try:
        wanted = validate_national_id(national_id)
    except InvalidNationalId:
        wanted = national_id.strip().upper()
    practitioner = find_practitioner(wanted)
    if practitioner is None:
        raise UnknownPractitioner(f"Aucun professionnel « {wanted[:64]} » dans l'annuaire.")
    hierarchy = get_hierarchy()
    issuer = hierarchy.personnes
    exercice = practitioner.exercices[0] if practitioner.exercices else None
    activity = first_activity(practitioner)
    given, family = display_names(practitioner)
    structure_id = structure_id_of(activity)
    subject = card_subject(
        national_id=practitioner.national_id,
        given_name=given,
        surname=family,
        organization=activity.raison_sociale if activity else "",
        structure_id=structure_id,
        title=codes.profession_label(exercice.profession) if exercice else "",
    )
    usage = key_usage_override or certs.key_usage(digital_signature=True)
    eku = CARD_EKU if eku_override is None else eku_override
    extensions = certs.leaf_extensions(eku, usage)
    san = x509.SubjectAlternativeName([upn_other_name(practitioner.national_id)])
    extensions.append((san, False))
    days = validity_days or pki_setting("pki_card_validity_days")
    return _issue(
        "card",
        hierarchy,
        issuer,
        subject,
        extensions,
        certs.validity(
            days=days, not_before=not_before, not_after=not_after, issuer=issuer.certificate
        ),
        national_id=practitioner.national_id,
        structure_id=structure_id or None,
    )


def issue_org(
    structure_id: str,
    name: str,
    service_name: str = DEFAULT_SERVICE_NAME,
    *,
    validity_days: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> IssuedCertificate:
    """An ORG AUTH_CLI certificate: software of structure ``structure_id`` authenticating in
    mutual TLS (``tls_client_auth``)."""
    structure_id, name, service_name = (v.strip() for v in (structure_id, name, service_name))
    if not structure_id or not name or not service_name:
        raise PkiError("Identifiant de structure, nom et nom de service sont obligatoires.")
    if len(service_name) > 64:
        raise PkiError("Le nom de service (CN) ne peut dépasser 64 caractères.")
    hierarchy = get_hierarchy()
    issuer = hierarchy.organisations
    extensions = certs.leaf_extensions(certs.CLIENT_EKU, certs.key_usage(digital_signature=True))
    days = validity_days or pki_setting("pki_org_validity_days")
    return _issue(
        "org",
        hierarchy,
        issuer,
        org_subject(name=name, structure_id=structure_id, service_name=service_name),
        extensions,
        certs.validity(
            days=days, not_before=not_before, not_after=not_after, issuer=issuer.certificate
        ),
        structure_id=structure_id,
    )


def _issue(
    kind: str,
    hierarchy: Hierarchy,
    issuer: Authority,
    subject: x509.Name,
    extensions: list[tuple[x509.ExtensionType, bool]],
    window: tuple[datetime, datetime],
    *,
    national_id: str | None = None,
    structure_id: str | None = None,
) -> IssuedCertificate:
    key = certs.new_key()
    cert = certs.build(
        subject=subject,
        public_key=key.public_key(),
        signer=issuer.signer,
        window=window,
        extensions=extensions,
        crl=certs.crl_url(current_settings().base_url, issuer.slug),
    )
    issued = IssuedCertificate(
        kind=kind,
        certificate=cert,
        private_key=key,
        chain=(issuer.certificate, hierarchy.root.certificate),
        national_id=national_id,
        structure_id=structure_id,
    )
    record(issued.kind, cert, issuer.slug, national_id=national_id, structure_id=structure_id)
    return issued


def record(
    kind: str,
    cert: x509.Certificate,
    issuer_slug: str,
    *,
    national_id: str | None = None,
    structure_id: str | None = None,
) -> PkiCertificate:
    """Add ``cert`` to the register of issued certificates (flushed, not committed)."""
    row = PkiCertificate(
        serial=serial_hex(cert.serial_number),
        kind=kind,
        issuer_slug=issuer_slug,
        subject_dn=dn_string(cert.subject)[:1000],
        national_id=national_id,
        structure_id=structure_id,
        sha256_thumbprint=sha256_thumbprint(cert),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    db.session.add(row)
    db.session.flush()
    return row


def record_server_certificate(hierarchy: Hierarchy) -> None:
    """Register the TLS server certificate (made with the files, before any database)."""
    cert = hierarchy.server_certificate
    if db.session.get(PkiCertificate, serial_hex(cert.serial_number)) is None:
        record("server", cert, hierarchy.organisations.slug)
