"""Clients: request objects (RFC 9101), registered request_uris and require_signed_request_object

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("request_uris", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            # Existing clients: unsigned requests still accepted, as before.
            sa.Column(
                "require_signed_request_object",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("require_signed_request_object")
        batch_op.drop_column("request_uris")
