"""Clients: encrypted JARM responses (authorization_encrypted_response_alg and _enc)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: Nullable: an existing client's responses stay signed only, as before.
COLUMNS = ("authorization_encrypted_response_alg", "authorization_encrypted_response_enc")


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
