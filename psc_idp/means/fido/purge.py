"""FIDO2 rows nobody can use any more (``psc-idp purge``): expired ceremonies (used or not).
Credentials stay until their owner or an administrator removes them."""

from __future__ import annotations

from psc_idp.config import Settings
from psc_idp.means.fido.models import FidoCeremony
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_fido(settings: Settings) -> dict[str, int]:
    return {"fido_ceremonies": delete_where(FidoCeremony, FidoCeremony.expires_at < now())}
