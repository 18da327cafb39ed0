"""What the APIs' authorization servers persist: the APIs declared in the realm, the tokens
they issued (for their userinfo) and the userinfo documents cached for a subject token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now

#: The CI-SIS guide's lifetime of an exchanged token, in seconds.
DEFAULT_LIFETIME = 60


class ProtectedApi(db.Model):
    """An API behind its own authorization server (realm file, ``apis:``)."""

    __tablename__ = "api_protected"

    audience: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    #: Business scopes a client may ask for; the first ones granted when it names none.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    lifetime: Mapped[int] = mapped_column(Integer, default=DEFAULT_LIFETIME)
    #: Clients allowed to exchange for this API (empty: any client naming it in its audiences).
    allowed_clients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Structures (the OU of the ORG AUTH_CLI certificate) allowed (empty: any).
    allowed_structures: Mapped[list[str]] = mapped_column(JSON, default=list)


class ExchangedToken(db.Model):
    """A token issued by an API's authorization server: what its userinfo answers."""

    __tablename__ = "api_exchanged_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    audience: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(255))
    national_id: Mapped[str] = mapped_column(String(64))
    #: The cached userinfo document (``UserinfoCache.key``) of the subject token.
    userinfo_key: Mapped[str] = mapped_column(String(128))
    cnf_x5t: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class UserinfoCache(db.Model):
    """The professional and the chosen situation d'exercice, read once per subject token and
    kept for its lifetime (the CI-SIS guide's cache): exchanges of the same token reuse it."""

    __tablename__ = "api_userinfo_cache"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
