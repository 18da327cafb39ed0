"""A first import into an empty directory: the child tables' indexes built once, at the end.

Each row of a national file otherwise costs an insert in every secondary index of the child
tables (a practitioner's exercices, an exercice's activities, the structures' identifiers),
in random order, and on PostgreSQL a foreign-key check that locks the parent row. When the
directory holds no imported practitioner yet, a new run drops those indexes (and PostgreSQL's
foreign keys of the child tables) in a transaction of its own before its first batch; the
run's last transaction, the one that marks it done, builds them again in one pass each. The
practitioners' primary key and unique national id stay, so every guarantee of the import
holds (no person twice, resumable, rejects, ``--full``).

Any import's last transaction restores whatever is missing (a run that stopped, then another
file imported), and so does a batch that must read or rewrite stored persons (rows of one
person far apart, or a realm-file practitioner in the file): those reads go by the indexes.
Until then, reads of the directory's children scan their tables.
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, exists, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from psc_idp.directory.models import Activity, Exercice, OtherId, Practitioner

P = Practitioner.__table__
_CHILDREN = (Exercice.__table__, OtherId.__table__, Activity.__table__)  # parents first


def _indexes() -> list[Index]:
    return [index for table in _CHILDREN for index in table.indexes if not index.unique]


def _foreign_keys() -> list[ForeignKeyConstraint]:
    return [fk for table in _CHILDREN for fk in table.foreign_key_constraints]


def directory_is_empty(session: Session) -> bool:
    """No practitioner of an import yet (realm-file ones may be there: they are few)."""
    imported = exists().where(P.c.content_hash.is_not(None))
    return not session.execute(select(imported)).scalar()


def defer_indexes(session: Session) -> None:
    """Drop the child tables' secondary indexes (and PostgreSQL's foreign keys), committed."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        for fk in _foreign_keys():
            # Written out, as the ADD below: SQLAlchemy's DropConstraint and AddConstraint take
            # the key out of the table's CREATE TABLE from then on (created apart).
            drop = f"ALTER TABLE {fk.table.name} DROP CONSTRAINT IF EXISTS {fk.name}"
            session.execute(text(drop))
    for index in _indexes():
        session.execute(DropIndex(index, if_exists=True))
    session.commit()


def _missing_foreign_keys(session: Session) -> list[ForeignKeyConstraint]:
    names = [fk.name for fk in _foreign_keys()]
    query = text("SELECT conname FROM pg_constraint WHERE contype = 'f' AND conname = ANY(:names)")
    present = set(session.execute(query, {"names": names}).scalars())
    return [fk for fk in _foreign_keys() if fk.name not in present]


def restore_indexes(session: Session) -> None:
    """Build whatever of them is missing, in the current transaction (not committed)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # The server's sort memory for these builds, in this transaction only.
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for index in _indexes():
        session.execute(CreateIndex(index, if_not_exists=True))
    if not postgres:
        return
    for fk in _missing_foreign_keys(session):
        # What the cascade would have deleted while the key was away (a practitioner removed
        # meanwhile), so that the constraint can be validated.
        (child_column,) = fk.columns
        (element,) = fk.elements
        parent = element.column
        orphan = ~exists().where(parent == child_column)
        session.execute(fk.table.delete().where(orphan))
        session.execute(text(_add_foreign_key(fk)))


def _add_foreign_key(fk: ForeignKeyConstraint) -> str:
    (column,) = fk.columns
    (element,) = fk.elements
    parent = element.column
    return (
        f"ALTER TABLE {fk.table.name} ADD CONSTRAINT {fk.name} FOREIGN KEY ({column.name})"
        f" REFERENCES {parent.table.name} ({parent.name}) ON DELETE {fk.ondelete or 'NO ACTION'}"
    )


def indexes_missing(session: Session) -> bool:
    """Whether some index of the child tables is absent (a deferred run, or one that stopped)."""
    connection = session.connection()
    names = [index.name for index in _indexes()]
    if connection.dialect.name == "postgresql":
        query = "SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)"
        found = connection.exec_driver_sql(query, (names,)).scalar()
    else:
        marks = ", ".join("?" * len(names))
        query = f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ({marks})"
        found = connection.exec_driver_sql(query, tuple(names)).scalar()
    return int(found or 0) < len(names)
