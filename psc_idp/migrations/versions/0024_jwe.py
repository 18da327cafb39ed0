"""Clients: encrypted ID tokens, UserInfo and request objects (JWE alg and enc of each)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

#: Each nullable: an existing client encrypts nothing, as before.
COLUMNS = (
    "id_token_encrypted_response_alg",
    "id_token_encrypted_response_enc",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "request_object_encryption_alg",
    "request_object_encryption_enc",
)


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
