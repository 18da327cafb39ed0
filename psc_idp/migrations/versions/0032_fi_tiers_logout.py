"""FI Tiers: the upstream ID token kept sealed (brokered login, SSO session) for the upstream
RP-initiated logout, and the logout's continuation while the browser is at that provider

Revision ID: 0032
Revises: 0027
Create Date: 2026-12-02 03:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sso_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream", sa.Text(), nullable=True))
    with op.batch_alter_table("fi_tiers_login", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token_sealed", sa.Text(), nullable=True))
    op.create_table(
        "logout_continuation",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("frames", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logout_continuation")),
    )
    op.create_index(
        op.f("ix_logout_continuation_expires_at"), "logout_continuation", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_table("logout_continuation")
    with op.batch_alter_table("fi_tiers_login", schema=None) as batch_op:
        batch_op.drop_column("id_token_sealed")
    with op.batch_alter_table("sso_session", schema=None) as batch_op:
        batch_op.drop_column("upstream")
