"""API Pro Santé Connectées: protected APIs, their exchanged tokens and cached userinfo;
clients' audiences (the APIs a client may exchange its PSC token for)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_protected",
        sa.Column("audience", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("lifetime", sa.Integer(), nullable=False),
        sa.Column("allowed_clients", sa.JSON(), nullable=False),
        sa.Column("allowed_structures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("audience"),
    )
    op.create_table(
        "api_exchanged_token",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=False),
        sa.Column("userinfo_key", sa.String(length=128), nullable=False),
        sa.Column("cnf_x5t", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index(
        "ix_api_exchanged_token_expires_at", "api_exchanged_token", ["expires_at"], unique=False
    )
    op.create_table(
        "api_userinfo_cache",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_api_userinfo_cache_expires_at", "api_userinfo_cache", ["expires_at"], unique=False
    )
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audiences", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("audiences")
    op.drop_index("ix_api_userinfo_cache_expires_at", table_name="api_userinfo_cache")
    op.drop_table("api_userinfo_cache")
    op.drop_index("ix_api_exchanged_token_expires_at", table_name="api_exchanged_token")
    op.drop_table("api_exchanged_token")
    op.drop_table("api_protected")
