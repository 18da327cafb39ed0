"""Brute-force lockouts: failures and lockouts per client and per professional

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lockout",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("previous_failure_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("last_source", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject", name=op.f("pk_lockout")),
    )
    with op.batch_alter_table("lockout", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lockout_last_failure_at"), ["last_failure_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lockout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lockout_last_failure_at"))
    op.drop_table("lockout")
