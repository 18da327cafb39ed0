"""Request journal: what each client sent and got, and the checks it failed

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
    )
    op.create_index("ix_journal_entry_client_id_id", "journal_entry", ["client_id", "id"])
    op.create_index(op.f("ix_journal_entry_at"), "journal_entry", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_entry_at"), table_name="journal_entry")
    op.drop_index("ix_journal_entry_client_id_id", table_name="journal_entry")
    op.drop_table("journal_entry")
