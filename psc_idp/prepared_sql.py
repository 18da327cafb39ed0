"""Reads and inserts of the hot paths, prepared once and run on the database driver's cursor.

A SQLAlchemy Core ``select`` costs about 80 µs to execute on these machines when the driver
itself answers in 12 µs: the execution context and the result object, built anew for every
statement. A :class:`PreparedRead` keeps what they compute and is the same for every call (the
SQL of each dialect, its parameters' order and bind processors, its columns' result
processors) and runs the statement on the DBAPI cursor of the session's connection, in the same
transaction. Only SQLAlchemy's public API is used (``compile``, ``construct_params``,
``positiontup``, the types' ``bind_processor`` / ``result_processor``), so a column's type
(``UTCDateTime``, ``JSON``, ``Boolean``) reads and writes exactly as through SQLAlchemy.

A :class:`PreparedWrite` does the same for an ``UPDATE`` or ``DELETE`` and returns how many
rows it changed. A :class:`PreparedInsert` names its columns once; a column it leaves out must
have no default of SQLAlchemy's own (that default would not run here), which it checks when
prepared. On SQLite, a write takes the writers' turn first, as every write does
(``sqlite_tuning``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy import insert as core_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql import Delete, Insert, Select, Update

from psc_idp.sqlite_tuning import before_write

Processor = Callable[[Any], Any] | None


#: Who wants to see each statement run here (SQLAlchemy's execution events do not): the tests
#: that count a path's statements. Empty, it costs one truth test.
statement_observers: list[Callable[[str], None]] = []


def _observed(sql: str) -> None:
    for observer in statement_observers:
        observer(sql)


class Record(tuple):
    """A result row: a tuple whose columns are also attributes (as SQLAlchemy's ``Row``)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None
    construct: Callable[[Mapping[str, Any]], dict[str, Any]]
    binds: dict[str, Processor]
    columns: tuple[Any, ...]
    record: type[Record]


class PreparedRead:
    """``statement`` compiled once per dialect; ``first`` and ``all`` run it."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._processors: dict[str, tuple[Processor, ...]] = {}

    def first(self, connection: Connection, **params: Any) -> Record | None:
        rows = self._rows(connection, params, one=True)
        return rows[0] if rows else None

    def all(self, connection: Connection, **params: Any) -> list[Record]:
        return self._rows(connection, params, one=False)

    def _rows(self, connection: Connection, params: dict[str, Any], one: bool) -> list[Record]:
        compiled = self._for(connection.dialect)
        cursor = _execute(compiled, connection, params)
        try:
            with _driver_errors(connection, compiled.sql, params, cursor):
                if one:
                    row = cursor.fetchone()
                    rows = [] if row is None else [row]
                else:
                    rows = cursor.fetchall()
            results = self._results(compiled, connection.dialect, cursor)
        finally:
            cursor.close()
        return [_record(compiled, results, row) for row in rows]

    def _results(self, compiled: _Compiled, dialect: Dialect, cursor: Any) -> tuple[Processor, ...]:
        """The columns' result processors; as SQLAlchemy's, they may depend on the type the
        driver reports for each column (psycopg: a float or a numeric), known once executed."""
        results = self._processors.get(dialect.name)
        if results is None:
            codes = [description[1] for description in cursor.description]
            results = self._processors[dialect.name] = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, code)
                for column, code in zip(compiled.columns, codes, strict=True)
            )
        return results

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled


class PreparedWrite:
    """An ``UPDATE``, a ``DELETE`` or an upsert compiled once per dialect; ``execute`` runs it
    on the connection's transaction and returns the number of rows it changed."""

    def __init__(self, statement: Update | Delete | Insert) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, **params: Any) -> int:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        before_write(dialect, connection.connection.dbapi_connection)
        cursor = _execute(compiled, connection, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()


def _execute(compiled: _Compiled, connection: Connection, params: dict[str, Any]) -> Any:
    """The statement run on a new cursor of the connection's driver connection (the caller
    closes it), its parameters bound as SQLAlchemy binds them."""
    values = compiled.construct(params)
    for name, process in compiled.binds.items():
        if process is not None and values.get(name) is not None:
            values[name] = process(values[name])
    if statement_observers:
        _observed(compiled.sql)
    if compiled.positional is not None:
        values = [values[n] for n in compiled.positional]
    return _run(connection, compiled.sql, values)


def _record(compiled: _Compiled, results: tuple[Processor, ...], row: tuple[Any, ...]) -> Record:
    values = [
        value if process is None or value is None else process(value)
        for process, value in zip(results, row, strict=True)
    ]
    return compiled.record(values)


def _compile(statement: Select[Any] | Update | Delete | Insert, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    columns = list(getattr(statement, "selected_columns", ()))
    names = tuple(column.key for column in columns)
    clashing = [name for name in names if hasattr(tuple, name)]
    if clashing:  # row.count would be tuple.count: label such columns otherwise
        raise ValueError(f"column names that a tuple already has: {clashing}")
    record = type(
        "Record",
        (Record,),
        {"__slots__": (), "_fields": names, "_index": {n: i for i, n in enumerate(names)}},
    )
    binds = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for name, bind in compiled.binds.items()
    }
    positional = tuple(compiled.positiontup) if compiled.positional else None
    return _Compiled(
        sql=compiled.string,
        positional=positional,
        construct=lambda params: compiled.construct_params(params),
        binds=binds,
        columns=tuple(columns),
        record=record,
    )


def _run(connection: Connection, sql: str, params: Any) -> Any:
    """A new cursor of the driver's connection that ran ``sql`` (the caller closes it)."""
    with _driver_errors(connection, sql, params):
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with _driver_errors(connection, sql, params, cursor):
            cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


@contextmanager
def _driver_errors(
    connection: Connection, sql: str, params: Any, cursor: Any = None
) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy raises them (an ``OperationalError`` is an
    outage, an ``IntegrityError`` a conflict), from the cursor's creation to its last fetch: a
    connection the server closed fails at ``cursor()`` already. A connection the server dropped
    is invalidated, so that the pool does not hand it out again."""
    dialect = connection.dialect
    dbapi = dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as error:
        dropped = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
        if dropped:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, dbapi.Error, connection_invalidated=dropped, dialect=dialect
        ) from error


class PreparedInsert:
    """``INSERT INTO table (columns…)`` compiled once per dialect; ``execute`` runs it."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        defaulted = [
            column.name
            for column in table.c
            if column.name not in columns and (column.default is not None or column.onupdate)
        ]
        if defaulted:
            raise ValueError(f"{table.name}: columns with a default must be given: {defaulted}")
        self.table = table
        self.columns = columns
        self._compiled: dict[str, _CompiledInsert] = {}

    def execute(self, connection: Connection, **values: Any) -> None:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        row = [
            value if process is None or value is None else process(value)
            for process, value in zip(
                compiled.binds, (values[name] for name in compiled.order), strict=True
            )
        ]
        params = row if compiled.positional else dict(zip(compiled.order, row, strict=True))
        before_write(dialect, connection.connection.dbapi_connection)
        if statement_observers:
            _observed(compiled.sql)
        _run(connection, compiled.sql, params).close()

    def _compile(self, dialect: Dialect) -> _CompiledInsert:
        statement = core_insert(self.table).values({name: bindparam(name) for name in self.columns})
        compiled = statement.compile(dialect=dialect)
        # The table's column order, whatever the order the columns were named in.
        order = tuple(compiled.positiontup) if compiled.positional else self.columns
        if sorted(order) != sorted(self.columns):
            raise ValueError(f"{self.table.name}: unexpected parameters {order}")
        binds = tuple(
            self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
        )
        return _CompiledInsert(compiled.string, bool(compiled.positional), order, binds)


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    positional: bool
    order: tuple[str, ...]
    binds: tuple[Processor, ...]


_INSERTS: dict[tuple[str, tuple[str, ...]], PreparedInsert] = {}


def insert(table: Table, connection: Connection, **values: Any) -> None:
    """One row into ``table`` by a prepared insert of exactly these columns."""
    key = (table.name, tuple(values))
    prepared = _INSERTS.get(key)
    if prepared is None:
        prepared = _INSERTS[key] = PreparedInsert(table, key[1])
    prepared.execute(connection, **values)


def insert_new(instance: Any, session: Session) -> Any:
    """Write a new ORM ``instance``'s row at once, as its flush would (the column defaults the
    model declares are applied, and set on the instance), without the unit of work's INSERT;
    the instance then joins ``session`` as an already saved row (a later change of it is an
    UPDATE at the next flush, as for any loaded row). Returns it."""
    table = instance.__table__
    values: dict[str, Any] = {}
    for column in table.c:
        key = column.key
        if key in instance.__dict__:
            values[key] = instance.__dict__[key]
        elif column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            setattr(instance, key, value)
            values[key] = value
        else:
            values[key] = None
    insert(table, session.connection(), **values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance
