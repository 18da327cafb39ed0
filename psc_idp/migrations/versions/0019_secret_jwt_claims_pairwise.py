"""Clients: client_secret_jwt's sealed secret, pairwise subjects; codes and grants: the claims
parameter

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_sealed", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "subject_type",
                sa.String(length=10),
                server_default=sa.text("'public'"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("sector_identifier_uri", sa.String(length=2000), nullable=True)
        )
    for table in ("oauth_code", "oauth_grant"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("claims", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ("oauth_grant", "oauth_code"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("claims")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("sector_identifier_uri")
        batch_op.drop_column("subject_type")
        batch_op.drop_column("secret_sealed")
