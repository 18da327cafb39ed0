"""Error scenarios (development tools): one effect per client, endpoint and professional

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dev_scenario",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("endpoint", sa.String(length=20), nullable=False),
        sa.Column("effect", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_client.client_id"],
            name=op.f("fk_dev_scenario_client_id_oauth_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_scenario")),
    )
    op.create_index(op.f("ix_dev_scenario_client_id"), "dev_scenario", ["client_id"])
    op.create_index(op.f("ix_dev_scenario_endpoint"), "dev_scenario", ["endpoint"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dev_scenario_endpoint"), table_name="dev_scenario")
    op.drop_index(op.f("ix_dev_scenario_client_id"), table_name="dev_scenario")
    op.drop_table("dev_scenario")
