"""Settled logout deliveries (``psc-idp purge``).

A delivery is settled once delivered, or once its attempts are spent (its last one may have
been cut short by a worker's death: its lease then never ends). It is kept a day after it was
written, for the operator to see what a client missed. A logout's continuation (the browser
gone to another provider's logout) goes once expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_

from psc_idp.config import Settings
from psc_idp.protocol.logout.models import LogoutContinuation, LogoutDelivery
from psc_idp.purge import delete_where
from psc_idp.timeutil import now

#: How long a settled delivery is kept.
KEPT = timedelta(days=1)


def purge_logout_deliveries(settings: Settings) -> dict[str, int]:
    settled = or_(
        LogoutDelivery.next_attempt_at.is_(None),
        LogoutDelivery.attempts >= settings.logout_delivery_attempts,
    )
    old = LogoutDelivery.created_at < now() - KEPT
    return {
        "logout_deliveries": delete_where(LogoutDelivery, and_(settled, old)),
        # A browser that never came back from the other provider's logout.
        "logout_continuations": delete_where(
            LogoutContinuation, LogoutContinuation.expires_at < now()
        ),
    }
