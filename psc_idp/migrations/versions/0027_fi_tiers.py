"""FI Tiers: establishments' identity providers, brokered logins, pairings; the login's amr

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


#: Nullable: logins by psc-idp's own means have no amr (their authMode says it).
AMR_TABLES = ("login_transaction", "sso_session", "oauth_code", "oauth_grant")


def upgrade() -> None:
    for table in AMR_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("amr", sa.String(length=255), nullable=True))
    op.create_table(
        "fi_identity_provider",
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_fi_identity_provider")),
    )
    op.create_table(
        "fi_tiers_login",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=True),
        sa.Column("acr", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fi_tiers_login")),
    )
    op.create_index(op.f("ix_fi_tiers_login_tx_id"), "fi_tiers_login", ["tx_id"])
    op.create_index(op.f("ix_fi_tiers_login_expires_at"), "fi_tiers_login", ["expires_at"])
    op.create_table(
        "fi_tiers_pairing",
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=False),
        sa.Column("paired_by", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("alias", "local_id", name=op.f("pk_fi_tiers_pairing")),
    )
    op.create_index(op.f("ix_fi_tiers_pairing_national_id"), "fi_tiers_pairing", ["national_id"])
    op.create_index(op.f("ix_fi_tiers_pairing_expires_at"), "fi_tiers_pairing", ["expires_at"])


def downgrade() -> None:
    for table in reversed(AMR_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("amr")
    op.drop_table("fi_tiers_pairing")
    op.drop_table("fi_tiers_login")
    op.drop_table("fi_identity_provider")
