"""Revocation of issued certificates and the CRLs of our CAs.

A CRL is rebuilt from the database in the transaction that revokes, and again when half its
lifetime has passed, so every instance serves the same, current list. Its cRLNumber comes from
an ``UPDATE … SET number = number + 1``: the row lock makes it strictly increasing even with
several instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.pki.errors import PkiError
from psc_idp.pki.hierarchy import get_hierarchy
from psc_idp.pki.models import PkiCertificate, PkiCrl
from psc_idp.pki.names import AUTHORITY_NAMES, normalise_serial
from psc_idp.pki.settings import pki_setting
from psc_idp.timeutil import now

#: Reasons a person may give (hold and CA-level reasons make no sense for a test card).
REVOCATION_REASONS = {
    flag.value: flag
    for flag in (
        x509.ReasonFlags.unspecified,
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.affiliation_changed,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
        x509.ReasonFlags.privilege_withdrawn,
    )
}


def revoke(
    serial_or_national_id: str, reason: x509.ReasonFlags = x509.ReasonFlags.unspecified
) -> list[PkiCertificate]:
    """Revoke one certificate by serial (hex, colons allowed), or every valid card of a
    national id. Returns the certificates revoked now (already revoked ones are left as they
    are); raises :class:`PkiError` if nothing matches. The CRLs concerned are rebuilt at once;
    the caller commits."""
    text = (serial_or_national_id or "").strip()
    serial = normalise_serial(text)
    # A serial is checked first: national ids are also hexadecimal-looking digits, but a
    # random 159-bit serial never equals one.
    row = db.session.get(PkiCertificate, serial) if serial else None
    moment = now()
    if row is not None:
        targets = [row]
    else:
        targets = list(
            db.session.scalars(
                select(PkiCertificate).where(
                    PkiCertificate.national_id == _national_id(text),
                    PkiCertificate.kind == "card",
                )
            )
        )
        if not targets:
            raise PkiError(f"Aucun certificat émis pour « {text[:64]} ».")
        targets = [t for t in targets if t.not_after > moment]
    revoked = [t for t in targets if t.revoked_at is None]
    for target in revoked:
        target.revoked_at = moment
        target.reason = reason.value
    db.session.flush()
    for slug in sorted({t.issuer_slug for t in revoked}):
        refresh_crl(slug)
    return revoked


def _national_id(text: str) -> str:
    try:
        return validate_national_id(text)
    except InvalidNationalId:
        return text.upper()


def is_revoked(serial: str) -> PkiCertificate | None:
    """The register entry of ``serial`` if it is revoked."""
    row = db.session.get(PkiCertificate, serial)
    return row if row is not None and row.revoked_at is not None else None


def ensure_crl_rows() -> None:
    """Create the CRL counters once (at start), so revocations only ever UPDATE them."""
    for slug in AUTHORITY_NAMES:
        if db.session.get(PkiCrl, slug) is None:
            db.session.add(PkiCrl(ca_slug=slug, number=0))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another instance starting at the same time made them


def current_crl(slug: str) -> bytes:
    """DER CRL of CA ``slug``, rebuilt if missing, past half its lifetime or not signed by the
    current key (a new keys folder on an old database). The caller commits."""
    authority = get_hierarchy().authority(slug)
    if authority is None:
        raise KeyError(slug)
    row = db.session.get(PkiCrl, slug)
    half = timedelta(seconds=pki_setting("pki_crl_lifetime") / 2)
    if (
        row is None
        or row.der is None
        or row.next_update is None
        or row.next_update - now() < half
        or not x509.load_der_x509_crl(row.der).is_signature_valid(
            authority.certificate.public_key()
        )
    ):
        row = refresh_crl(slug)
    assert row.der is not None
    return row.der


def refresh_crl(slug: str) -> PkiCrl:
    """Build and store a new CRL for CA ``slug`` with the next cRLNumber (not committed)."""
    authority = get_hierarchy().authority(slug)
    if authority is None:
        raise KeyError(slug)
    bumped = db.session.execute(
        update(PkiCrl)
        .where(PkiCrl.ca_slug == slug)
        .values(number=PkiCrl.number + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount == 0:
        db.session.add(PkiCrl(ca_slug=slug, number=1))
        db.session.flush()
    row = db.session.get(PkiCrl, slug, populate_existing=True)
    assert row is not None
    revoked = db.session.scalars(
        select(PkiCertificate)
        .where(PkiCertificate.issuer_slug == slug, PkiCertificate.revoked_at.is_not(None))
        .order_by(PkiCertificate.revoked_at)
    )
    this_update = datetime.now(UTC).replace(microsecond=0)
    next_update = this_update + timedelta(seconds=pki_setting("pki_crl_lifetime"))
    public_key = authority.certificate.public_key()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(row.number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(_revoked_entry(entry))
    crl = builder.sign(authority.key, hashes.SHA256())
    row.der = crl.public_bytes(serialization.Encoding.DER)
    row.this_update = this_update
    row.next_update = next_update
    db.session.flush()
    return row


def _revoked_entry(entry: PkiCertificate) -> x509.RevokedCertificate:
    assert entry.revoked_at is not None
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(int(entry.serial, 16))
        .revocation_date(entry.revoked_at)
    )
    reason = REVOCATION_REASONS.get(entry.reason or "unspecified")
    # RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be absent.
    if reason is not None and reason is not x509.ReasonFlags.unspecified:
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    return builder.build()
