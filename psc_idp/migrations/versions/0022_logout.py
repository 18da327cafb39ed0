"""Logout: clients' back- and front-channel logout URIs, and the pending logout deliveries

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backchannel_logout_uri", sa.String(2000), nullable=True))
        batch_op.add_column(
            sa.Column(
                "backchannel_logout_session_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(sa.Column("frontchannel_logout_uri", sa.String(2000), nullable=True))
        batch_op.add_column(
            sa.Column(
                "frontchannel_logout_session_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    op.create_table(
        "logout_delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=True),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_client.client_id"],
            name=op.f("fk_logout_delivery_client_id_oauth_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logout_delivery")),
        sa.UniqueConstraint("jti", name=op.f("uq_logout_delivery_jti")),
    )
    with op.batch_alter_table("logout_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logout_delivery_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logout_delivery_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("logout_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logout_delivery_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_logout_delivery_client_id"))
    op.drop_table("logout_delivery")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("frontchannel_logout_session_required")
        batch_op.drop_column("frontchannel_logout_uri")
        batch_op.drop_column("backchannel_logout_session_required")
        batch_op.drop_column("backchannel_logout_uri")
