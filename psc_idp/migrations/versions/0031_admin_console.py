"""Admin console: administrators, their sessions, used TOTP steps

Revision ID: 0031
Revises: 0027
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_account",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_sealed", sa.Text(), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_admin_account")),
        sa.UniqueConstraint("national_id", name=op.f("uq_admin_account_national_id")),
    )
    op.create_table(
        "admin_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("cookie_hash", sa.String(length=128), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_session")),
        sa.UniqueConstraint("cookie_hash", name=op.f("uq_admin_session_cookie_hash")),
    )
    op.create_index(op.f("ix_admin_session_login"), "admin_session", ["login"])
    op.create_index(op.f("ix_admin_session_last_seen_at"), "admin_session", ["last_seen_at"])
    op.create_table(
        "admin_totp_step",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("login", "step", name=op.f("pk_admin_totp_step")),
    )
    op.create_index(op.f("ix_admin_totp_step_used_at"), "admin_totp_step", ["used_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_totp_step_used_at"), table_name="admin_totp_step")
    op.drop_table("admin_totp_step")
    op.drop_index(op.f("ix_admin_session_last_seen_at"), table_name="admin_session")
    op.drop_index(op.f("ix_admin_session_login"), table_name="admin_session")
    op.drop_table("admin_session")
    op.drop_table("admin_account")
