"""``psc-idp purge``: ended or expired administrator sessions, and TOTP steps past the window in
which their code could still be presented."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_

from psc_idp.admin.accounts import VALID_WINDOW
from psc_idp.admin.models import AdminSession, AdminTotpStep
from psc_idp.config import Settings
from psc_idp.purge import delete_where
from psc_idp.timeutil import now

#: RFC 6238's default step; a used step matters only while its code is within the window.
STEP_SECONDS = 30


def purge_admin(settings: Settings) -> dict[str, int]:
    moment = now()
    dead = or_(
        AdminSession.ended_at.is_not(None),
        AdminSession.created_at < moment - timedelta(seconds=settings.admin_session_max_lifetime),
        AdminSession.last_seen_at
        < moment - timedelta(seconds=settings.admin_session_idle_lifetime),
    )
    # Kept a few steps longer than the window: a clock a little ahead cannot reuse a code.
    horizon = moment - timedelta(seconds=STEP_SECONDS * (2 * VALID_WINDOW + 4))
    return {
        "admin_sessions": delete_where(AdminSession, dead),
        "admin_totp_steps": delete_where(AdminTotpStep, AdminTotpStep.used_at < horizon),
    }
