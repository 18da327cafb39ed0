"""Brute-force protection in Keycloak's spirit: failures counted per subject (a client, a
professional), a temporary lockout every ``failure_factor`` failures whose wait grows by
``wait_increment`` up to ``max_wait``, a short lockout when two failures come closer than
``quick_login_check_ms``, and a permanent lockout after ``permanent_after`` temporary ones.

One row per locked-or-failing subject. A failure is one ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` in a transaction of its own (counted even when the request then fails, exact under
any concurrency on SQLite and PostgreSQL); only the failure that reaches a multiple of the
factor writes the lockout. A success deletes the row of a subject that has one (nothing to do
otherwise: no write on the hot path). Failures older than ``max_delta`` start the count again,
as Keycloak's ``maxDeltaTimeSeconds``. ``psc-idp unlock`` deletes rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, String, bindparam, case, delete, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.config import Settings, current_settings
from psc_idp.extensions import db
from psc_idp.prepared_sql import PreparedRead
from psc_idp.timeutil import UTCDateTime, now

#: What is counted: a client (its secret), a professional (PIN, activation codes, FIDO, card).
CLIENT = "client"
PROFESSIONAL = "national_id"
KINDS = (CLIENT, PROFESSIONAL)


class Lockout(db.Model):
    __tablename__ = "lockout"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: A client id or a national id, in clear: ``psc-idp unlock --list`` shows them.
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    #: Temporary lockouts since the count last started (permanent past ``permanent_after``).
    lockouts: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The failure before the last one: the quick-login check compares the two.
    previous_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What failed last (``secret``, ``pin``, ``activation_code``, ``fido``, ``card``).
    last_source: Mapped[str] = mapped_column(String(40), default="")


@dataclass(frozen=True)
class Policy:
    """Keycloak's settings, under our names (docs/operations.md maps them)."""

    enabled: bool
    failure_factor: int
    wait_increment: int
    max_wait: int
    quick_login_check_ms: int
    quick_login_wait: int
    max_delta: int
    permanent_after: int

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            enabled=settings.lockout_enabled,
            failure_factor=max(1, settings.lockout_failure_factor),
            wait_increment=settings.lockout_wait_increment,
            max_wait=settings.lockout_max_wait,
            quick_login_check_ms=settings.lockout_quick_login_check_ms,
            quick_login_wait=settings.lockout_quick_login_wait,
            max_delta=settings.lockout_max_delta,
            permanent_after=settings.lockout_permanent_after,
        )

    def wait_for(self, lockouts: int) -> int:
        return min(self.wait_increment * lockouts, self.max_wait)


@dataclass(frozen=True)
class State:
    failures: int
    locked_until: datetime | None
    permanent: bool

    def locked(self, moment: datetime | None = None) -> bool:
        if self.permanent:
            return True
        return self.locked_until is not None and self.locked_until > (moment or now())

    def retry_after(self, moment: datetime | None = None) -> int | None:
        """Seconds until the lockout ends; None when permanent or not locked."""
        if self.permanent or not self.locked(moment):
            return None
        assert self.locked_until is not None
        return max(1, int((self.locked_until - (moment or now())).total_seconds()))


def _policy() -> Policy:
    return Policy.of(current_settings())


_STATE = PreparedRead(
    select(Lockout.failures, Lockout.locked_until, Lockout.permanent).where(
        Lockout.kind == bindparam("kind"), Lockout.subject == bindparam("subject")
    )
)


def state(kind: str, subject: str) -> State | None:
    """The subject's row, if it has one (one primary-key read, prepared: every CIBA request
    and login reads it)."""
    row = _STATE.first(db.session.connection(), kind=kind, subject=subject)
    return None if row is None else State(row.failures, row.locked_until, bool(row.permanent))


def is_locked(kind: str, subject: str) -> bool:
    if not _policy().enabled:
        return False
    found = state(kind, subject)
    return found is not None and found.locked()


def fail(kind: str, subject: str, source: str) -> State:
    """Count one failure for the subject, committed at once; lock it when the count says so.
    In a transaction of its own: call it with nothing uncommitted in the session (SQLite has
    one writer at a time)."""
    policy = _policy()
    if not policy.enabled:
        return State(0, None, False)
    moment = now()
    stale = Lockout.last_failure_at < moment - timedelta(seconds=policy.max_delta)
    with db.engine.begin() as connection:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(Lockout).values(
            kind=kind,
            subject=subject,
            failures=1,
            lockouts=0,
            last_failure_at=moment,
            previous_failure_at=None,
            locked_until=None,
            permanent=False,
            last_source=source,
        )
        # Permanent rows keep counting; others start again after max_delta (Keycloak's reset).
        restart = stale & ~Lockout.permanent
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "subject"],
            set_={
                "failures": case((restart, 1), else_=Lockout.failures + 1),
                "lockouts": case((restart, 0), else_=Lockout.lockouts),
                "previous_failure_at": case((restart, null()), else_=Lockout.last_failure_at),
                "last_failure_at": moment,
                "last_source": source,
            },
        ).returning(
            Lockout.failures, Lockout.previous_failure_at, Lockout.locked_until, Lockout.permanent
        )
        row = connection.execute(statement).one()
        result = State(row.failures, row.locked_until, bool(row.permanent))
        if result.permanent:
            return result
        wait, temporary = 0, row.failures % policy.failure_factor == 0
        if temporary:
            lockouts = connection.execute(
                update(Lockout)
                .where(Lockout.kind == kind, Lockout.subject == subject)
                .values(lockouts=Lockout.lockouts + 1)
                .returning(Lockout.lockouts)
            ).scalar_one()
            if policy.permanent_after > 0 and lockouts > policy.permanent_after:
                connection.execute(
                    update(Lockout)
                    .where(Lockout.kind == kind, Lockout.subject == subject)
                    .values(permanent=True, locked_until=None)
                )
                return State(row.failures, None, True)
            wait = policy.wait_for(lockouts)
        previous = row.previous_failure_at
        quick = previous is not None and (moment - previous) < timedelta(
            milliseconds=policy.quick_login_check_ms
        )
        if quick:
            wait = max(wait, policy.quick_login_wait)
        if wait <= 0:
            return result
        until = moment + timedelta(seconds=wait)
        # Never shorten a lockout a concurrent failure set further away.
        connection.execute(
            update(Lockout)
            .where(
                Lockout.kind == kind,
                Lockout.subject == subject,
                (Lockout.locked_until.is_(None)) | (Lockout.locked_until < until),
            )
            .values(locked_until=until)
        )
        return State(row.failures, until, False)


def succeed(kind: str, subject: str, known: State | None, in_session: bool = False) -> None:
    """A success ends the count (Keycloak clears the failures), except a permanent lockout.
    ``known``: the state the caller read already (None: no row, nothing to clear). In its own
    transaction, or with ``in_session`` in the caller's (committed with the login)."""
    if known is None or known.permanent:
        return
    statement = delete(Lockout).where(
        Lockout.kind == kind, Lockout.subject == subject, ~Lockout.permanent
    )
    if in_session:
        db.session.execute(statement)
        return
    with db.engine.begin() as connection:
        connection.execute(statement)


def check(kind: str, subject: str) -> State | None:
    """The state to pass to ``succeed`` after a good credential: read only when enabled."""
    return state(kind, subject) if _policy().enabled else None


def unlock(kind: str | None = None, subject: str | None = None) -> int:
    """Delete the rows of one subject, of one kind, or all; how many (the caller commits)."""
    statement = delete(Lockout)
    if kind is not None:
        statement = statement.where(Lockout.kind == kind)
    if subject is not None:
        statement = statement.where(Lockout.subject == subject)
    return db.session.execute(statement).rowcount or 0


def listing() -> list[Lockout]:
    """Subjects locked now, temporarily or for good (``psc-idp unlock --list``)."""
    moment = now()
    query = (
        select(Lockout)
        .where(Lockout.permanent | (Lockout.locked_until > moment))
        .order_by(Lockout.kind, Lockout.subject)
    )
    return list(db.session.scalars(query))


def purge_lockouts(settings: Settings) -> dict[str, int]:
    """``psc-idp purge``: rows that can no longer count or lock (a permanent one is kept until
    ``psc-idp unlock``)."""
    moment = now()
    cutoff = moment - timedelta(seconds=settings.lockout_max_delta)
    deleted = db.session.execute(
        delete(Lockout).where(
            ~Lockout.permanent,
            Lockout.last_failure_at < cutoff,
            (Lockout.locked_until.is_(None)) | (Lockout.locked_until < moment),
        )
    )
    return {"lockouts": deleted.rowcount or 0}
