"""FHIR directory API: API keys, indexes on the structure ids (Organization id and identifier)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dir_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dir_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_dir_api_key_key_hash")),
        sa.UniqueConstraint("label", name=op.f("uq_dir_api_key_label")),
    )
    with op.batch_alter_table("dir_activity", schema=None) as batch_op:
        batch_op.create_index("ix_dir_activity_structure_id", ["structure_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dir_activity_ancien_identifiant"), ["ancien_identifiant"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dir_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dir_activity_ancien_identifiant"))
        batch_op.drop_index("ix_dir_activity_structure_id")
    op.drop_table("dir_api_key")
