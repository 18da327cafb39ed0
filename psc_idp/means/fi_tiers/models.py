"""The establishments' providers (from the realm file), the brokered logins in flight, and the
pairings of a local account with a national id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class FiIdentityProvider(db.Model):
    """One ``identity_providers`` entry of the realm file, as checked at import."""

    __tablename__ = "fi_identity_provider"

    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)


class BrokerStatus(StrEnum):
    SENT = "sent"  # the browser went to the provider
    RETURNED = "returned"  # the callback took the state (once)
    VERIFIED = "verified"  # the callback came back with a valid ID token; pairing may follow
    DONE = "done"


class FiTiersLogin(db.Model):
    """A login sent to a provider: its ``state`` is the id, used once by the callback."""

    __tablename__ = "fi_tiers_login"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tx_id: Mapped[str] = mapped_column(String(64), index=True)
    alias: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), default=BrokerStatus.SENT)
    #: Once verified: the provider's immutable id of the user and its ``amr``.
    local_id: Mapped[str | None] = mapped_column(String(255))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    acr: Mapped[str | None] = mapped_column(String(20))
    #: The provider's ID token, sealed (``upstream.seal_id_token``): the ``id_token_hint`` of
    #: its logout, handed to the SSO session once the login is recorded.
    id_token_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FiTiersPairing(db.Model):
    """A provider's local account, paired with a professional's national id until expiry."""

    __tablename__ = "fi_tiers_pairing"

    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(64), index=True)
    paired_by: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
