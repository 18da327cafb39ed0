"""One table: a client's journaled requests, newest by ``id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime


class JournalEntry(db.Model):
    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_client_id_id", "client_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: ``authorize``, ``par``, ``token``, ``ciba``, ``userinfo``, ``introspection``…
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    status: Mapped[int]
    #: What the client sent, masked: ``{"query": {…}, "form": {…}, "headers": {…}}``.
    sent: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: What it got: ``error``/``error_description``, or a summary of the success.
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The checks it failed and the warnings: ``[{"code": …, "refusal": bool}]``.
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
