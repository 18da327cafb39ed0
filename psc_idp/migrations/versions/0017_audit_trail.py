"""Audit trail of every authentication and token event: client, means, acr, outcome, IP, agent

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("means", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("acr", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_client_id"))
        for column in ("user_agent", "ip", "outcome", "acr", "means", "client_id"):
            batch_op.drop_column(column)
