"""Annuaire Santé imports: content hash per practitioner, import runs

Revision ID: 0015
Revises: 0008
Create Date: 2026-12-01 09:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dir_practitioner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))

    op.create_table(
        "dir_import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=32), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("running", "done", name="runstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("deactivated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dir_import_run")),
    )
    with op.batch_alter_table("dir_import_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dir_import_run_file_sha256"), ["file_sha256"], unique=False
        )

    op.create_table(
        "dir_import_seen",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dir_import_run.id"],
            name=op.f("fk_dir_import_seen_run_id_dir_import_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "national_id", name=op.f("pk_dir_import_seen")),
    )


def downgrade() -> None:
    op.drop_table("dir_import_seen")
    with op.batch_alter_table("dir_import_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dir_import_run_file_sha256"))
    op.drop_table("dir_import_run")
    with op.batch_alter_table("dir_practitioner", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
