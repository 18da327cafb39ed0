"""Removing the APIs' authorization servers' rows nobody can use any more (``psc-idp purge``)."""

from __future__ import annotations

from sqlalchemy import delete

from psc_idp.api_as.models import ExchangedToken, UserinfoCache
from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.timeutil import now


def purge_api_as(settings: Settings) -> dict[str, int]:
    moment = now()
    tokens = delete(ExchangedToken).where(ExchangedToken.expires_at < moment)
    cached = delete(UserinfoCache).where(UserinfoCache.expires_at < moment)
    return {
        "exchanged_tokens": db.session.execute(tokens).rowcount or 0,
        "cached_userinfo": db.session.execute(cached).rowcount or 0,
    }
