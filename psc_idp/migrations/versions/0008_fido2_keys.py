"""FIDO2 keys

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 16:05:49.935676
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "fido_ceremony",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fido_ceremony")),
    )
    with op.batch_alter_table("fido_ceremony", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fido_ceremony_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fido_ceremony_owner"), ["owner"], unique=False)

    op.create_table(
        "fido_credential",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("credential_data", sa.LargeBinary(), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("attestation_format", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("suspected_clone_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fido_credential")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_fido_credential_credential_id")),
    )
    with op.batch_alter_table("fido_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fido_credential_national_id"), ["national_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("fido_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fido_credential_national_id"))

    op.drop_table("fido_credential")
    with op.batch_alter_table("fido_ceremony", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fido_ceremony_owner"))
        batch_op.drop_index(batch_op.f("ix_fido_ceremony_expires_at"))

    op.drop_table("fido_ceremony")
