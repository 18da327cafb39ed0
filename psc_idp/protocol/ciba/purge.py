"""Finished backchannel requests (``psc-idp purge``).

A request is done once its tokens were taken (``issued``); any other is done an hour after it
expired: by then the ping retries (seconds) are over and a late poll has had its
``expired_token``. Afterwards the ``auth_req_id`` is simply unknown (``invalid_grant``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_

from psc_idp.config import Settings
from psc_idp.protocol.ciba.approval import CibaStatus
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.purge import delete_where
from psc_idp.timeutil import now

#: How long an expired request is kept.
KEPT_AFTER_EXPIRY = timedelta(hours=1)


def purge_ciba(settings: Settings) -> dict[str, int]:
    expired_long_ago = CibaRequest.expires_at < now() - KEPT_AFTER_EXPIRY
    done = or_(CibaRequest.status == CibaStatus.ISSUED, expired_long_ago)
    return {"ciba_requests": delete_where(CibaRequest, done)}
