"""API keys of the FHIR directory API (``ESANTE-API-KEY``), stored as keyed hashes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class ApiKey(db.Model):
    """One key: not expiring data (removed by ``psc-idp directory api-key remove``)."""

    __tablename__ = "dir_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now)
