"""DPoP (RFC 9449): clients that require proofs, keys bound to codes and tokens

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

#: Tables and the column naming the DPoP key thumbprint each binds to.
_KEY_COLUMNS = (
    ("oauth_code", "dpop_jkt"),
    ("oauth_access_token", "cnf_jkt"),
    ("oauth_refresh_token", "cnf_jkt"),
)


def upgrade() -> None:
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        # Existing clients: proofs optional, as before.
        batch_op.add_column(
            sa.Column(
                "dpop_bound_access_tokens",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    for table, column in _KEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_KEY_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("dpop_bound_access_tokens")
