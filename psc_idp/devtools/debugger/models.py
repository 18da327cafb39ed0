"""A debugger run: one flow started from /dev/debugger, with what it needs to go on (state,
nonce, code_verifier, the sealed client secret) and every exchange it made. In the database,
so that another instance can take the callback or the next CIBA poll."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class DebuggerRun(db.Model):
    __tablename__ = "debugger_run"

    #: Random, in the run page's URL; the run opens only in the browser that started it.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    #: Keyed hash of the browser's debugger cookie.
    browser: Mapped[str] = mapped_column(String(64), index=True)
    #: The authorization request's ``state``, to find the run again at the callback.
    state: Mapped[str | None] = mapped_column(String(255), index=True)
    flow: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
