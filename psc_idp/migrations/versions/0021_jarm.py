"""Clients: authorization_signed_response_alg (JARM, the signed authorization response)

Revision ID: 0021_jarm
Revises: 0020
Create Date: 2026-12-02 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_jarm"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        # Unset: RS256, JARM's default.
        batch_op.add_column(
            sa.Column("authorization_signed_response_alg", sa.String(length=10), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("authorization_signed_response_alg")
