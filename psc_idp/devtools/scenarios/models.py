"""The scenarios table: configuration, as the realm file's other sections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class Scenario(db.Model):
    """One effect at one endpoint for one client (and, if named, one professional only)."""

    __tablename__ = "dev_scenario"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("oauth_client.client_id", ondelete="CASCADE"), index=True
    )
    national_id: Mapped[str | None] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(20), index=True)
    effect: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
