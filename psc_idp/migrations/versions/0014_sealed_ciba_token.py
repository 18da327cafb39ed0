"""CIBA ping: the notification token is stored sealed, longer than the token itself

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ciba_request", schema=None) as batch_op:
        batch_op.alter_column(
            "notification_token",
            existing_type=sa.String(length=1024),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("ciba_request", schema=None) as batch_op:
        batch_op.alter_column(
            "notification_token",
            existing_type=sa.Text(),
            type_=sa.String(length=1024),
            existing_nullable=True,
        )
