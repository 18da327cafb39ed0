"""A debugger run: one flow started from /dev/debugger, with what it needs to go on (state,
nonce, code_verifier, the sealed client secret) and every exchange it made. In the database,
so that another instance can take the callback or the next CIBA poll; sealed there (the app
secret's authenticated encryption), since its exchanges hold the tokens the flow obtained."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now

PURPOSE = "debugger-run"


class DebuggerRun(db.Model):
    __tablename__ = "debugger_run"

    #: Random, in the run page's URL; the run opens only in the browser that started it.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    #: Keyed hash of the browser's debugger cookie.
    browser: Mapped[str] = mapped_column(String(64), index=True)
    #: The authorization request's ``state``, to find the run again at the callback.
    state: Mapped[str | None] = mapped_column(String(255), index=True)
    flow: Mapped[str] = mapped_column(String(20))
    #: ``{"sealed": …}``: the run's contents, read and written through ``data``.
    sealed_data: Mapped[dict[str, Any]] = mapped_column("data", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def data(self) -> dict[str, Any]:
        """The run's contents; ``ValueError`` if they cannot be opened (another app secret)."""
        stored = self.sealed_data or {}
        sealed = stored.get("sealed")
        if sealed is None:  # a run written before runs were sealed (they live an hour)
            return stored
        return json.loads(current_app.extensions["psc_app_secret"].unseal(sealed, PURPOSE))

    @data.setter
    def data(self, contents: dict[str, Any]) -> None:
        plain = json.dumps(contents, separators=(",", ":"))
        self.sealed_data = {"sealed": current_app.extensions["psc_app_secret"].seal(plain, PURPOSE)}
