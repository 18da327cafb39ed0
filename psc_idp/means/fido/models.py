"""Security keys and the state of WebAuthn ceremonies between begin and complete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class FidoCredential(db.Model):
    __tablename__ = "fido_credential"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    #: The authenticator's credential id (base64url), unique among all keys.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    #: AttestedCredentialData (AAGUID + credential id + COSE public key), as python-fido2 reads it.
    credential_data: Mapped[bytes] = mapped_column(LargeBinary)
    aaguid: Mapped[str] = mapped_column(String(36))
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    attestation_format: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the signature counter went backwards: the key may have been cloned.
    suspected_clone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FidoCeremony(db.Model):
    """python-fido2's state from ``*_begin`` until ``*_complete``: single use, short-lived."""

    __tablename__ = "fido_ceremony"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "register" | "authenticate"
    national_id: Mapped[str | None] = mapped_column(String(64))
    #: The login transaction or SSO session the ceremony belongs to.
    owner: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
