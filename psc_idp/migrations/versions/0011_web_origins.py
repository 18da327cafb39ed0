"""Per-client web origins (CORS)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing clients get Keycloak's usual value: the origins of their redirect URIs.
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("web_origins", sa.JSON(), server_default=sa.text("'[\"+\"]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("web_origins")
