"""FI Tiers rows nobody can use any more (``psc-idp purge``): brokered logins past their expiry
and expired pairings (the next login pairs again). Providers stay until the realm changes."""

from __future__ import annotations

from psc_idp.config import Settings
from psc_idp.means.fi_tiers.models import FiTiersLogin, FiTiersPairing
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_fi_tiers(settings: Settings) -> dict[str, int]:
    moment = now()
    return {
        "fi_tiers_logins": delete_where(FiTiersLogin, FiTiersLogin.expires_at < moment),
        "fi_tiers_pairings": delete_where(FiTiersPairing, FiTiersPairing.expires_at < moment),
    }
