"""Writing one batch of persons with SQLAlchemy Core: skip the unchanged, rewrite the changed.

An unchanged person (same content hash, still active) costs one row of a ``SELECT``; a changed
one has its children deleted and reinserted; a new one is inserted. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, delete, exists, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from psc_idp.directory.importers.models import ImportSeen
from psc_idp.directory.importers.records import (
    ACTIVITY_COLUMNS,
    CIVIL_FIELDS,
    Person,
    RejectedItem,
)
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.models import (
    EXERCICE_FIELDS,
    Activity,
    Exercice,
    OtherId,
    Practitioner,
)
from psc_idp.timeutil import now

P = Practitioner.__table__
E = Exercice.__table__
A = Activity.__table__
O = OtherId.__table__  # noqa: E741
S = ImportSeen.__table__


@dataclass
class BatchCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows found bad while parsing the batch
    merged: int = 0  # persons met again later in an unsorted file


def person_from_database(national_id: str, position: int) -> Person | None:
    """The stored record of a person, as a :class:`Person` (to merge later rows into it)."""
    found = find_practitioner(national_id)
    if found is None:
        return None
    civil = {name: getattr(found, name) for name in CIVIL_FIELDS}
    person = Person(national_id, position, civil)
    for exercice in found.exercices:
        key = tuple(getattr(exercice, name) for name in EXERCICE_FIELDS)
        activities = person.exercices.setdefault(key, {})
        for activity in exercice.activities:
            activities[tuple(getattr(activity, name) for name in ACTIVITY_COLUMNS)] = None
    person.other_ids = [(o.identifiant, o.origine, o.qualite) for o in found.other_ids]
    return person


_NULLABLE = ("birth_date", "birth_place", "birth_commune_code", "birth_country_code")


_PRACTITIONER_COLUMNS = (
    *("id", "national_id", "id_type", "created_at"),
    *(*CIVIL_FIELDS, "content_hash", "active", "updated_at"),
)


def _civil_row(person: Person, digest: str, moment: datetime) -> dict:
    row: dict = {name: person.civil.get(name) for name in CIVIL_FIELDS}
    for name in CIVIL_FIELDS:
        if row[name] is None and name not in _NULLABLE:
            row[name] = ""
    if not isinstance(row["birth_date"], date):
        row["birth_date"] = None
    row.update(content_hash=digest, active=True, updated_at=moment)
    return row


def _insert_many(session: Session, table: Table, columns: tuple[str, ...], rows: list) -> None:
    """``executemany`` through the driver: at hundreds of thousands of rows, SQLAlchemy's
    per-row parameter handling costs more than the database. Typed columns (dates) still go
    through their SQLAlchemy bind processors, once per distinct value (a batch shares one
    timestamp, and birth dates repeat)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        (index, processor, {})
        for index, name in enumerate(columns)
        if (processor := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    if processors:
        converted = []
        for row in rows:
            values = list(row)
            for index, processor, done in processors:
                value = values[index]
                processed = done.get(value, _MISSING)
                if processed is _MISSING:
                    processed = done[value] = processor(value)
                values[index] = processed
            converted.append(tuple(values))
        rows = converted
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        # COPY: one stream per table and batch, several times faster than executemany.
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


_MISSING = object()


def _reserve_ids(session: Session, table: Table, count: int) -> range | list[int]:
    """``count`` primary keys for rows about to be inserted, so that their children can name
    them without reading them back. PostgreSQL: from the table's sequence (safe beside other
    writers). SQLite: after the largest id, read inside a transaction that has already
    written (``apply_batch`` writes first), so the database lock is held and no other writer
    can take those ids."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The sequence named once: pg_get_serial_sequence per row cost a twentieth of the
        # server's time in a first import.
        query = text(
            "WITH s AS MATERIALIZED"
            " (SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq)"
            " SELECT nextval(s.seq) FROM s, generate_series(1, :n)"
        )
        return list(connection.execute(query, {"table": table.name, "n": count}).scalars())
    largest = connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}").scalar()
    return range(int(largest or 0) + 1, int(largest or 0) + 1 + count)


_EXERCICE_COLUMNS = ("id", "practitioner_id", "position", *EXERCICE_FIELDS)
_ACTIVITY_COLUMNS = ("exercice_id", "position", *ACTIVITY_COLUMNS)
_OTHER_ID_COLUMNS = ("practitioner_id", "position", "identifiant", "origine", "qualite")


def _insert_children(session: Session, persons: list[tuple[int, Person]]) -> None:
    count = sum(len(person.exercices) for _, person in persons)
    exercice_ids = iter(_reserve_ids(session, E, count))
    exercice_rows, activity_rows, other_rows = [], [], []
    for practitioner_id, person in persons:
        for position, (key, activities) in enumerate(person.exercices.items()):
            exercice_id = next(exercice_ids)
            exercice_rows.append((exercice_id, practitioner_id, position, *key))
            for number, values in enumerate(activities):
                activity_rows.append((exercice_id, number, *values))
        for position, other_id in enumerate(person.other_ids):
            other_rows.append((practitioner_id, position, *other_id))
    _insert_many(session, E, _EXERCICE_COLUMNS, exercice_rows)
    _insert_many(session, A, _ACTIVITY_COLUMNS, activity_rows)
    _insert_many(session, O, _OTHER_ID_COLUMNS, other_rows)


def _delete_children(session: Session, practitioner_ids: list[int]) -> None:
    exercices = select(E.c.id).where(E.c.practitioner_id.in_(practitioner_ids))
    session.execute(delete(A).where(A.c.exercice_id.in_(exercices)))
    session.execute(delete(E).where(E.c.practitioner_id.in_(practitioner_ids)))
    session.execute(delete(O).where(O.c.practitioner_id.in_(practitioner_ids)))


class Item(Protocol):
    """A person to apply: a FHIR :class:`Person`, or the unparsed rows of a tabular file."""

    national_id: str
    position: int

    @property
    def rows(self) -> int: ...

    def absorb(self, other: Any) -> None: ...

    def digest(self) -> str: ...

    def resolve(self) -> tuple[Person | None, list[RejectedItem]]: ...


#: Marks a hash that must never match (a person merged from non-adjacent rows, or with
#: rejected rows): such a person is parsed again at every import.
UNSURE = "!"


_IN_CHUNK = 5000  # values per IN list, well under SQLite's limit on bound parameters


def where_in(connection: Connection, query: str, values: list, *params: Any) -> list:
    """Rows of ``query`` (driver SQL ending in a column) whose column is one of ``values``, in
    chunks: rendered by hand, the list costs the driver alone, not SQLAlchemy's expansion of
    each value. (PostgreSQL reads by national id with :func:`ids_relation`.)"""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    found: list = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        marks = ", ".join([mark] * len(chunk))
        found += connection.exec_driver_sql(f"{query} IN ({marks})", (*params, *chunk)).all()
    return found


def _stored(session: Session, run_id: int, ids: list[str]) -> tuple[dict[str, Any], set[str]]:
    """The stored row of each of ``ids``, and those this run has applied already (whoever a
    run applied is stored: one query, the seen table probed per practitioner found)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        query = (
            "SELECT p.id, p.national_id, p.content_hash, p.active, s.seen IS NOT NULL AS seen"
            f" FROM {ids_relation(P.name, 'id, national_id, content_hash, active')}"
            " LEFT JOIN LATERAL ("
            f"SELECT true AS seen FROM {S.name}"
            " WHERE run_id = %s AND national_id = wanted.national_id LIMIT 1) s ON true"
        )
        rows = connection.exec_driver_sql(query, (ids, run_id)).all()
    else:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        seen = f"SELECT 1 FROM {S.name} s WHERE s.run_id = {mark} AND s.national_id = p.national_id"
        query = (
            f"SELECT p.id, p.national_id, p.content_hash, p.active, EXISTS ({seen}) AS seen"
            f" FROM {P.name} p WHERE p.national_id"
        )
        rows = where_in(connection, query, ids, run_id)
    existing = {row.national_id: row for row in rows}
    return existing, {national_id for national_id, row in existing.items() if row.seen}


def ids_relation(table: str, columns: str) -> str:
    """PostgreSQL: ``p``, the rows of ``table`` whose national id is in the array parameter,
    one index probe per id. A join or an ``IN`` list of a batch's thousands of ids was planned
    on a few hundred thousand rows as a sequential scan (and the seen rows as a hash of the
    whole run's), read again at every batch: the lateral subquery with ``LIMIT 1`` cannot be
    flattened into such a join."""
    return (
        "unnest(CAST(%s AS varchar[])) AS wanted(national_id) CROSS JOIN LATERAL ("
        f"SELECT {columns} FROM {table}"
        " WHERE national_id = wanted.national_id LIMIT 1) p"
    )


def _resolve(
    batch: dict[str, Item], skip: set[str], counts: BatchCounts, reject: Callable
) -> dict[str, tuple[Person, str]]:
    """Parse the items not skipped; key them by normalised national id."""
    persons: dict[str, tuple[Person, str]] = {}
    for key, item in batch.items():
        if key in skip:
            continue
        person, rejected = item.resolve()
        for rejected_item in rejected:
            reject(rejected_item)
        counts.rejected += len(rejected)
        if person is None:
            continue
        digest = item.digest() if not rejected else UNSURE
        known = persons.get(person.national_id)
        if known is not None:  # two spellings of one id
            known[0].absorb(person)
            digest = UNSURE
        persons[person.national_id] = (known[0] if known else person, digest)
    return persons


def apply_batch(
    session: Session,
    run_id: int,
    batch: dict[str, Item],
    reject: Callable,
    before_rewrite: Callable[[], None] | None = None,
) -> BatchCounts:
    """Write ``batch``; rows found bad while parsing go to ``reject``. ``before_rewrite`` is
    called, in the batch's transaction, before stored persons are read or rewritten."""
    counts = BatchCounts()
    existing, seen = _stored(session, run_id, list(batch))
    unchanged = {
        key
        for key, item in batch.items()
        if key not in seen
        and (row := existing.get(key)) is not None
        and row.active
        and row.content_hash == item.digest()
    }
    counts.unchanged = len(unchanged)
    persons = _resolve(batch, unchanged, counts, reject)
    missing = [nid for nid in persons if nid not in existing and nid not in batch]
    if missing:
        more, more_seen = _stored(session, run_id, missing)
        existing.update(more)
        seen |= more_seen
    if before_rewrite is not None and any(nid in existing for nid in persons):
        before_rewrite()
    # The batch's first write, before any id is reserved (see _reserve_ids).
    unseen = {nid for nid in (*unchanged, *persons) if nid not in seen}
    _insert_many(session, S, ("run_id", "national_id"), [(run_id, nid) for nid in unseen])
    new, changed = [], []
    for national_id, (person, digest) in persons.items():
        if national_id in seen:
            stored = person_from_database(national_id, person.position)
            if stored is not None:
                stored.absorb(person)
                person, digest = stored, UNSURE
            counts.merged += 1
        row = existing.get(national_id)
        if row is None:
            new.append((person, digest))
        elif row.content_hash != digest or not row.active or digest == UNSURE:
            changed.append((row.id, person, digest))
        else:
            counts.unchanged += 1
    if changed:
        _delete_children(session, [practitioner_id for practitioner_id, _, _ in changed])
        session.execute(
            update(P).where(P.c.id == bindparam("_id")),
            [{"_id": pid} | _civil_row(person, digest, now()) for pid, person, digest in changed],
        )
        _insert_children(session, [(pid, person) for pid, person, _ in changed])
        counts.updated += sum(1 for _, person, _ in changed if person.national_id not in seen)
    if new:
        _insert_new(session, new)
        counts.created += len(new)
    return counts


def _insert_new(session: Session, new: list[tuple[Person, str]]) -> None:
    moment = now()
    ids = _reserve_ids(session, P, len(new))
    rows = [
        (practitioner_id, person.national_id, person.national_id[:1], moment)
        + tuple(_civil_row(person, digest, moment).values())
        for practitioner_id, (person, digest) in zip(ids, new, strict=True)
    ]
    _insert_many(session, P, _PRACTITIONER_COLUMNS, rows)
    _insert_children(session, list(zip(ids, (person for person, _ in new), strict=True)))


def deactivate_absent(session: Session, run_id: int) -> int:
    """Deactivate the imported practitioners this run did not see (realm-file ones stay)."""
    # NOT EXISTS, an anti-join on the seen table's primary key (NOT IN may rescan it per row).
    seen = exists().where(S.c.run_id == run_id, S.c.national_id == P.c.national_id)
    result = session.execute(
        update(P)
        .where(P.c.active.is_(True), P.c.content_hash.is_not(None), ~seen)
        .values(active=False, updated_at=now())
    )
    return result.rowcount or 0


def finish_seen(session: Session, run_id: int) -> None:
    """Forget whom the run has seen. PostgreSQL: the table emptied by ``TRUNCATE`` when no
    other run is unfinished, under a lock that keeps other runs from adding rows meanwhile: a
    ``DELETE`` of a national file's million rows leaves them dead in the table and its index
    until a vacuum (autovacuum may be off), and every later lookup walks them."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"LOCK TABLE {S.name} IN ACCESS EXCLUSIVE MODE")
        others = connection.exec_driver_sql(
            "SELECT count(*) FROM dir_import_run WHERE status = 'running' AND id <> %s",
            (run_id,),
        ).scalar()
        if not others:
            connection.exec_driver_sql(f"TRUNCATE {S.name}")
            return
    session.execute(delete(S).where(S.c.run_id == run_id))


#: The columns the import's own statements look rows up by (ANALYZE during a run).
_LOOKUP_COLUMNS = {
    P: ("national_id",),
    E: ("practitioner_id",),
    A: ("exercice_id",),
    O: ("practitioner_id",),
    S: ("run_id", "national_id"),
}


def refresh_statistics(session: Session, *, lookups_only: bool = False) -> None:
    """PostgreSQL: ANALYZE the tables an import fills. Activities need it: without statistics
    (autovacuum may be late or off) a read of one practitioner's activities was planned as a
    bitmap scan expecting 252 rows instead of an index scan finding one. ``lookups_only``:
    only the columns the import looks rows up by, for a refresh during a run: the whole
    tables' (forty text columns sorted for each sample) took a third of the server's time in a
    first import, and nearly all of it in a re-import."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if lookups_only:  # a tenth of the sample: ids, whose distribution is plain
        session.execute(text("SET LOCAL default_statistics_target = 10"))
    for table, columns in _LOOKUP_COLUMNS.items():
        listed = f" ({', '.join(columns)})" if lookups_only else ""
        session.execute(text(f"ANALYZE {table.name}{listed}"))
    session.commit()


def stored_practitioners(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(P)).scalar() or 0)


def bulk_settings(session: Session) -> None:
    """PostgreSQL, in each of an import's transactions: commit without waiting for the WAL to
    reach the disk. A server crash may then lose the last transactions (a fraction of a
    second), never part of one: a batch and the run's position after it are lost together,
    and the same command applies that batch again. Only this transaction is concerned."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
