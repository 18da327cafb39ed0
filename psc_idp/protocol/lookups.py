"""The reads of the hot paths (client authentication, UserInfo, introspection) in SQLAlchemy
Core: one statement each, prepared once (``psc_idp/prepared_sql.py``) and run on the session's
connection (same transaction), without the ORM's identity map and unit of work.

They answer from the database at every call: nothing here outlives the request, so a second
instance's revocation or a disabled client is seen at once. The ORM models stay the way to
change rows; what these functions return is read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, literal, select

from psc_idp import lockout
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from psc_idp.prepared_sql import PreparedRead
from psc_idp.protocol.models import AccessToken, Client, Grant, RefreshToken

_client = Client.__table__
_grant = Grant.__table__
_access = AccessToken.__table__
_refresh = RefreshToken.__table__
_person = Practitioner.__table__
_lockout = lockout.Lockout.__table__

#: The client with its brute-force state, if it has one (no second statement for it).
_LOCKOUT_COLUMNS = (
    _lockout.c.failures.label("lockout__failures"),
    _lockout.c.locked_until.label("lockout__locked_until"),
    _lockout.c.permanent.label("lockout__permanent"),
)
_CLIENT_BY_ID = PreparedRead(
    select(_client, *_LOCKOUT_COLUMNS)
    .select_from(_client)
    .outerjoin(
        _lockout,
        and_(
            _lockout.c.kind == literal(lockout.CLIENT),
            _lockout.c.subject == _client.c.client_id,
        ),
    )
    .where(_client.c.client_id == bindparam("client_id"))
)

#: The family as a token check needs it: its client's state and the professional's.
_FAMILY = (
    _grant.c.id.label("grant_id"),
    _grant.c.client_id,
    _grant.c.national_id,
    _grant.c.scope,
    _grant.c.auth_mode,
    _grant.c.amr,
    _grant.c.claims.label("grant_claims"),
    _grant.c.revoked_at.label("grant_revoked_at"),
    _client.c.enabled.label("client_enabled"),
    _person.c.active.label("person_active"),
)


def _family(token_table: Any, *columns: Any) -> Any:
    return (
        select(*columns, *_FAMILY)
        .select_from(token_table)
        .join(_grant, _grant.c.id == token_table.c.grant_id)
        .outerjoin(_client, _client.c.client_id == _grant.c.client_id)
        .outerjoin(_person, _person.c.national_id == _grant.c.national_id)
    )


_ACCESS_SELECT = _family(
    _access, _access.c.expires_at, _access.c.revoked_at, _access.c.cnf_x5t, _access.c.cnf_jkt
).where(_access.c.jti == bindparam("jti"))
_ACCESS_BY_JTI = PreparedRead(_ACCESS_SELECT)
#: UserInfo also needs the whole client (its scopes, its UserInfo signing algorithm).
_CLIENT_COLUMNS = [column.label(f"client__{column.name}") for column in _client.c]
_ACCESS_WITH_CLIENT = PreparedRead(_ACCESS_SELECT.add_columns(*_CLIENT_COLUMNS))
_REFRESH_BY_HASH = PreparedRead(
    _family(_refresh, _refresh.c.expires_at, _refresh.c.revoked_at, _refresh.c.used_at).where(
        _refresh.c.token_hash == bindparam("token_hash")
    )
)


def _first(statement: PreparedRead, **params: Any) -> Any:
    return statement.first(db.session.connection(), **params)


def read_only(model: type[Any], values: Mapping[str, Any]) -> Any:
    """An instance of ``model`` holding ``values``, never attached to a session: for reading
    only. The mapped attributes read straight from the instance's ``__dict__`` (SQLAlchemy's
    attribute access does when the value is there), so the ORM's constructor and its instance
    state, a tenth of a request's time here, are skipped; adding it to a session is refused."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    return instance


def enabled_client(client_id: str) -> Client | None:
    """The client registered under ``client_id`` if it is enabled, with its ``lockout_state``
    (None: no failure counted)."""
    row = _first(_CLIENT_BY_ID, client_id=client_id)
    if row is None or not row.enabled:
        return None
    mapping = row._mapping
    client = read_only(Client, {column.name: mapping[column.name] for column in _client.c})
    client.lockout_state = (
        None
        if mapping["lockout__failures"] is None
        else lockout.State(
            mapping["lockout__failures"],
            mapping["lockout__locked_until"],
            bool(mapping["lockout__permanent"]),
        )
    )
    return client


@dataclass(frozen=True)
class TokenFamily:
    """What a token check needs of the token's grant, its client and its professional."""

    grant_id: str
    client_id: str
    national_id: str | None
    scope: str
    auth_mode: str | None
    revoked_at: datetime | None
    client_enabled: bool
    #: None when the grant has no professional (client credentials) or the row is gone.
    person_active: bool | None
    #: The authorization's ``claims`` parameter (UserInfo adds what it asks for).
    claims: str | None = None
    #: The login's ``amr``, space-separated (FI Tiers: the establishment's); None otherwise.
    amr: str | None = None

    @classmethod
    def of(cls, row: Any) -> TokenFamily:
        return cls(
            grant_id=row.grant_id,
            client_id=row.client_id,
            national_id=row.national_id,
            scope=row.scope or "",
            auth_mode=row.auth_mode,
            revoked_at=row.grant_revoked_at,
            client_enabled=bool(row.client_enabled),
            person_active=row.person_active,
            claims=row.grant_claims,
            amr=row.amr,
        )

    @property
    def live(self) -> bool:
        """Not revoked, its client still enabled (``tokens.grant_is_live``)."""
        return self.revoked_at is None and self.client_enabled

    @property
    def person_may_act(self) -> bool:
        """No professional, or one who is still active (a removed one is not)."""
        return not self.national_id or bool(self.person_active)


@dataclass(frozen=True)
class AccessTokenState:
    expires_at: datetime
    revoked_at: datetime | None
    cnf_x5t: str | None
    family: TokenFamily
    #: The DPoP key thumbprint the token is bound to (``cnf.jkt``).
    cnf_jkt: str | None


@dataclass(frozen=True)
class AccessTokenWithClient(AccessTokenState):
    #: None when the client row is gone (the family is then not live).
    client: Client | None


@dataclass(frozen=True)
class RefreshTokenState:
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    family: TokenFamily


def access_token_state(jti: str) -> AccessTokenState | None:
    row = _first(_ACCESS_BY_JTI, jti=jti)
    if row is None:
        return None
    return AccessTokenState(
        row.expires_at, row.revoked_at, row.cnf_x5t, TokenFamily.of(row), row.cnf_jkt
    )


def access_token_with_client(jti: str) -> AccessTokenWithClient | None:
    row = _first(_ACCESS_WITH_CLIENT, jti=jti)
    if row is None:
        return None
    prefix = "client__"
    fields = {k[len(prefix) :]: v for k, v in row._mapping.items() if k.startswith(prefix)}
    client = read_only(Client, fields) if fields["client_id"] is not None else None
    return AccessTokenWithClient(
        row.expires_at, row.revoked_at, row.cnf_x5t, TokenFamily.of(row), row.cnf_jkt, client
    )


def refresh_token_state(token_hash: str) -> RefreshTokenState | None:
    row = _first(_REFRESH_BY_HASH, token_hash=token_hash)
    if row is None:
        return None
    return RefreshTokenState(row.expires_at, row.revoked_at, row.used_at, TokenFamily.of(row))


# --- refresh: the token and its whole family, for the rotation -------------------------------
_REFRESH_WITH_GRANT = PreparedRead(
    select(
        _refresh.c.token_hash,
        _refresh.c.grant_id,
        _refresh.c.expires_at,
        _refresh.c.used_at,
        _refresh.c.revoked_at,
        _refresh.c.cnf_jkt,
        *(column.label(f"grant__{column.name}") for column in _grant.c),
    )
    .join(_grant, _grant.c.id == _refresh.c.grant_id)
    .where(_refresh.c.token_hash == bindparam("token_hash"))
)


class GrantRecord:
    """A token family's row (the attributes of ``Grant``), read-only."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


@dataclass(frozen=True)
class RefreshTokenRecord:
    """A refresh token with its family, as the refresh grant reads it (Authlib's TokenMixin)."""

    token_hash: str
    grant_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    #: The DPoP key a public client's refresh token is bound to.
    cnf_jkt: str | None
    grant: GrantRecord

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.grant.scope


def refresh_token_with_grant(token_hash: str) -> RefreshTokenRecord | None:
    row = _first(_REFRESH_WITH_GRANT, token_hash=token_hash)
    if row is None:
        return None
    mapping = row._mapping
    grant = {k[len("grant__") :]: v for k, v in mapping.items() if k.startswith("grant__")}
    return RefreshTokenRecord(
        row.token_hash,
        row.grant_id,
        row.expires_at,
        row.used_at,
        row.revoked_at,
        row.cnf_jkt,
        GrantRecord(grant),
    )
