"""Removing finished logins and dead SSO sessions (``psc-idp purge``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.login.models import LoginTransaction, SsoSession
from psc_idp.timeutil import now


def purge_login(settings: Settings) -> dict[str, int]:
    moment = now()
    dead_session = or_(
        SsoSession.ended_at.is_not(None),
        SsoSession.created_at < moment - timedelta(seconds=settings.sso_max_lifetime),
        SsoSession.last_seen_at < moment - timedelta(seconds=settings.sso_idle_lifetime),
    )
    return {
        "login_transactions": db.session.execute(
            delete(LoginTransaction).where(LoginTransaction.expires_at < moment)
        ).rowcount
        or 0,
        "sso_sessions": db.session.execute(delete(SsoSession).where(dead_session)).rowcount or 0,
    }
