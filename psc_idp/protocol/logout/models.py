"""What back-channel logout persists: one row per logout token to deliver to one client."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class LogoutDelivery(db.Model):
    """A logout token owed to a client's ``backchannel_logout_uri``.

    Written in the transaction that ends the SSO session, delivered afterwards by whichever
    instance claims it first (``backchannel.deliver_due``), retried with backoff until it is
    delivered or its attempts are spent. The token is signed at each attempt (a fresh ``iat``
    and ``exp``) under the same ``jti``, so the client can tell a retry from a new logout."""

    __tablename__ = "logout_delivery"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_client.client_id", ondelete="CASCADE"), index=True
    )
    sid: Mapped[str] = mapped_column(String(64))
    #: The ``sub`` this client knows (public or pairwise), computed when the session ended.
    sub: Mapped[str | None] = mapped_column(String(255))
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the next attempt is due; a claim moves it forward by a lease. None once settled.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last failure (HTTP status or network error), for the operator.
    last_error: Mapped[str | None] = mapped_column(String(500))


class LogoutContinuation(db.Model):
    """A logout gone to end the session at another provider (FI Tiers): what psc-idp still
    owes the browser when it comes back (the front-channel frames, the client's
    ``post_logout_redirect_uri`` with its ``state``). The id travels as the ``state`` of that
    provider's logout; it is used once."""

    __tablename__ = "logout_continuation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[str | None] = mapped_column(Text)
    frames: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
