"""Alembic environment: runs on the connection the application hands over."""

from __future__ import annotations

from alembic import context

import psc_idp.models  # noqa: F401  (registers every table on the metadata)
from psc_idp.extensions import db

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
