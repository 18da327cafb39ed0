"""e-CPS abuse limits: throttle windows, push gate, activation target

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_window",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_throttle_window")),
    )
    with op.batch_alter_table("throttle_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_throttle_window_window_start"), ["window_start"], unique=False
        )

    op.create_table(
        "ecps_push_gate",
        sa.Column("national_id", sa.String(length=64), nullable=False),
        sa.Column("last_push_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("national_id", name=op.f("pk_ecps_push_gate")),
    )

    with op.batch_alter_table("ecps_activation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_hash", sa.String(length=128), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ecps_activation_target_hash"), ["target_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ecps_activation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecps_activation_target_hash"))
        batch_op.drop_column("target_hash")

    op.drop_table("ecps_push_gate")
    with op.batch_alter_table("throttle_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_window_window_start"))

    op.drop_table("throttle_window")
