"""CIBA ping

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 16:00:30.884859
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("ciba_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ping_auth_req_id", sa.String(length=128), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("ciba_request", schema=None) as batch_op:
        batch_op.drop_column("ping_auth_req_id")
