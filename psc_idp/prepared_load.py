"""ORM rows of the hot paths read by a prepared statement (``prepared_sql.PreparedRead``).

An ORM ``select`` of one row costs its execution context, its result object and the loading
of the instance; a prepared read of the same columns skips the first two. The instance is
then made as a loaded one: its columns set without history and joined to the session as an
already saved row, so that what the code does with it afterwards (``refresh``, a change
flushed as an ``UPDATE``, the identity map) is what it would be after the ORM's query. A row
the session already holds is that instance, as the ORM would answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from psc_idp.prepared_sql import PreparedRead

Model = TypeVar("Model")


class PreparedLoad(Generic[Model]):
    """``model``'s rows where ``condition(table)``, every column, in the given order."""

    def __init__(
        self,
        model: type[Model],
        condition: Callable[[Table], ColumnElement[bool]],
        order_by: Callable[[Table], Any] | None = None,
    ) -> None:
        mapper = inspect(model)
        table = mapper.local_table
        statement = select(*table.c).where(condition(table))
        if order_by is not None:
            statement = statement.order_by(order_by(table))
        self._read = PreparedRead(statement.limit(1))
        self._mapper = mapper
        self._keys = tuple(mapper.get_property_by_column(column).key for column in table.c)
        self._primary = tuple(
            self._keys.index(mapper.get_property_by_column(column).key)
            for column in mapper.primary_key
        )

    def first(self, session: Session, **params: Any) -> Model | None:
        if session.autoflush:
            session.flush()  # as the ORM's query would (nothing to do on a clean session)
        record = self._read.first(session.connection(), **params)
        if record is None:
            return None
        identity = self._mapper.identity_key_from_primary_key([record[i] for i in self._primary])
        known = session.identity_map.get(identity)
        if known is not None:
            return known  # the session's own, with whatever it changed
        instance = self._mapper.class_manager.new_instance()
        for key, value in zip(self._keys, record, strict=True):
            set_committed_value(instance, key, value)
        make_transient_to_detached(instance)
        session.add(instance)
        return instance
