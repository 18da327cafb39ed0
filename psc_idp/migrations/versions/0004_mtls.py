"""mTLS clients and bound tokens; one replay guard

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:29:49.634523
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_used_assertion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_used_assertion_expires_at"))

    op.drop_table("oauth_used_assertion")
    with op.batch_alter_table("oauth_access_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cnf_x5t", sa.String(length=64), nullable=True))

    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tls_client_auth_subject_dn", sa.String(length=1000), nullable=True)
        )
        batch_op.add_column(
            sa.Column("tls_client_auth_san_dns", sa.String(length=255), nullable=True)
        )
        batch_op.add_column(
            # Existing clients: unbound tokens, as before.
            sa.Column(
                "tls_client_certificate_bound_access_tokens",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("tls_client_certificate_bound_access_tokens")
        batch_op.drop_column("tls_client_auth_san_dns")
        batch_op.drop_column("tls_client_auth_subject_dn")

    with op.batch_alter_table("oauth_access_token", schema=None) as batch_op:
        batch_op.drop_column("cnf_x5t")

    op.create_table(
        "oauth_used_assertion",
        sa.Column("key", sa.VARCHAR(length=128), nullable=False),
        sa.Column("expires_at", sa.DATETIME(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oauth_used_assertion")),
    )
    with op.batch_alter_table("oauth_used_assertion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_used_assertion_expires_at"), ["expires_at"], unique=False
        )
