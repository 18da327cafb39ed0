"""Pushed authorization requests (RFC 9126)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 15:35:19.550674
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_par_request",
        sa.Column("uri_hash", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_client.client_id"],
            name=op.f("fk_oauth_par_request_client_id_oauth_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uri_hash", name=op.f("pk_oauth_par_request")),
    )
    with op.batch_alter_table("oauth_par_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_par_request_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_par_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_par_request_expires_at"))

    op.drop_table("oauth_par_request")
