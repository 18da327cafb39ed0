"""Extensions created unbound; ``create_app`` binds them."""

from __future__ import annotations

import logging

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class _SQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """The request's session removed even when its connection died under it: closing
        rolls back, which fails on a connection the database dropped. The answer is already
        made (a 503 if the request met the outage), so the failure is logged, not raised:
        raised here it would escape Flask and reach the server as a 500. The session is
        forgotten all the same; its dead connection was invalidated by the failure."""
        try:
            self.session.remove()
        except Exception as error:
            log.warning("session closed on a failed connection: %s", error)
            self.session.registry.clear()


db = _SQLAlchemy(model_class=Base)
