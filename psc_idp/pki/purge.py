"""Other authorities' CRLs past their nextUpdate (``psc-idp purge``): never used again (the
next check fetches a fresh one). Certificates and our own CRLs are the PKI's register."""

from __future__ import annotations

from psc_idp.config import Settings
from psc_idp.pki.models import PkiCrlCache
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_pki(settings: Settings) -> dict[str, int]:
    return {"crl_cache": delete_where(PkiCrlCache, PkiCrlCache.next_update < now())}
