"""What the test PKI persists: every certificate it issued, its own CRLs, and CRLs fetched from
other authorities.

Revocation state lives here and not in memory, so every instance serves the same CRLs and
rejects the same revoked cards. Private keys of issued certificates are never stored: they are
handed to whoever asked for the certificate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class PkiCertificate(db.Model):
    """A certificate issued by one of the test CAs (card, organisation or TLS server)."""

    __tablename__ = "pki_certificate"

    #: Lower-case hexadecimal serial number, no leading zeros (random 159-bit, hence unique).
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: ``card``, ``org`` or ``server``
    kind: Mapped[str] = mapped_column(String(10), index=True)
    #: Slug of the issuing CA (``personnes``, ``organisations``): which CRL lists it.
    issuer_slug: Mapped[str] = mapped_column(String(32), index=True)
    #: RFC 4514 string (OpenSSL short names for title, GN, SN).
    subject_dn: Mapped[str] = mapped_column(String(1000))
    national_id: Mapped[str | None] = mapped_column(String(64), index=True)
    structure_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: base64url SHA-256 of the DER certificate (``x5t#S256``).
    sha256_thumbprint: Mapped[str] = mapped_column(String(64))
    certificate_pem: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: RFC 5280 CRLReason name (``keyCompromise``…); ``unspecified`` when not given.
    reason: Mapped[str | None] = mapped_column(String(32))

    def status(self, moment: datetime | None = None) -> str:
        """``revoked``, ``expired`` or ``valid`` (French labels are the CLI's business)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.not_after <= (moment or now()) else "valid"


class PkiCrl(db.Model):
    """The current CRL of one of our CAs. ``number`` only grows (RFC 5280 cRLNumber)."""

    __tablename__ = "pki_crl"

    ca_slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, default=0)
    der: Mapped[bytes | None] = mapped_column(LargeBinary)
    this_update: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PkiCrlCache(db.Model):
    """A CRL fetched from another authority's distribution point, kept until its nextUpdate."""

    __tablename__ = "pki_crl_cache"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    issuer_dn: Mapped[str] = mapped_column(String(1000))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    this_update: Mapped[datetime] = mapped_column(UTCDateTime)
    next_update: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
