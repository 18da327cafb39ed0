"""Debugger runs (/dev/debugger): a flow's state and its exchanges

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debugger_run",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=True),
        sa.Column("flow", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debugger_run")),
    )
    op.create_index(op.f("ix_debugger_run_browser"), "debugger_run", ["browser"])
    op.create_index(op.f("ix_debugger_run_state"), "debugger_run", ["state"])
    op.create_index(op.f("ix_debugger_run_expires_at"), "debugger_run", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_debugger_run_expires_at"), table_name="debugger_run")
    op.drop_index(op.f("ix_debugger_run_state"), table_name="debugger_run")
    op.drop_index(op.f("ix_debugger_run_browser"), table_name="debugger_run")
    op.drop_table("debugger_run")
