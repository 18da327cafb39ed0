"""Removing protocol rows nobody can use any more (``psc-idp purge``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.protocol.models import (
    AccessToken,
    AuthorizationCode,
    Grant,
    PushedAuthorizationRequest,
    RefreshToken,
)
from psc_idp.replay import SeenOnce
from psc_idp.timeutil import now


def purge_protocol(settings: Settings) -> dict[str, int]:
    moment = now()
    # Used codes are kept as long as tokens issued from them may live, to detect replays.
    code_horizon = moment - timedelta(seconds=settings.sso_max_lifetime)
    counts = {
        "access_tokens": _delete(AccessToken, AccessToken.expires_at < moment),
        "refresh_tokens": _delete(RefreshToken, RefreshToken.expires_at < moment),
        "codes": _delete(AuthorizationCode, AuthorizationCode.expires_at < code_horizon),
        "seen_once": _delete(SeenOnce, SeenOnce.expires_at < moment),
        "pushed_requests": _delete(
            PushedAuthorizationRequest, PushedAuthorizationRequest.expires_at < moment
        ),
    }
    orphan = ~exists(select(AccessToken.jti).where(AccessToken.grant_id == Grant.id)) & ~exists(
        select(RefreshToken.token_hash).where(RefreshToken.grant_id == Grant.id)
    )
    counts["grants"] = _delete(Grant, orphan & (Grant.created_at < code_horizon))
    return counts


def _delete(model, condition) -> int:
    return db.session.execute(delete(model).where(condition)).rowcount or 0
