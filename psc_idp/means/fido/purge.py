"""Removing FIDO ceremonies nobody can finish any more (``psc-idp purge``)."""

from __future__ import annotations

from sqlalchemy import delete

from psc_idp.extensions import db
from psc_idp.means.fido.models import FidoCeremony
from psc_idp.timeutil import now


def purge_fido() -> dict[str, int]:
    expired = delete(FidoCeremony).where(FidoCeremony.expires_at < now())
    return {"fido_ceremonies": db.session.execute(expired).rowcount or 0}
