"""Clients registered with the former default scopes may ask for the new defaults

Until now a client registered without ``scopes`` got ``openid scope_all rpps identity``, stored
as its list; the default is now every scope PSC advertises, so that libraries at their defaults
(``openid profile email``…, or all of ``scopes_supported``) log in. Only lists equal to the former
default are changed: a list someone chose is kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FORMER_DEFAULT = ["openid", "scope_all", "rpps", "identity"]
#: A copy, not an import: a migration must not change when the code does.
NEW_DEFAULT = [
    "openid",
    "microprofile-jwt",
    "rpps",
    "referentiel",
    "web-origins",
    "basic",
    "identity",
    "acr",
    "offline_access",
    "eidas1",
    "profile",
    "roles",
    "email",
    "scope_all",
    "phone",
    "interop",
    "scope_1",
    "address",
    "scope_2",
    "eidas2",
]

clients = sa.table("oauth_client", sa.column("client_id", sa.String), sa.column("scopes", sa.JSON))


def _replace(old: list[str], new: list[str]) -> None:
    connection = op.get_bind()
    # Compared in Python: PostgreSQL has no equality operator for json.
    for client_id, scopes in connection.execute(sa.select(clients.c.client_id, clients.c.scopes)):
        if scopes == old:
            connection.execute(
                clients.update().where(clients.c.client_id == client_id).values(scopes=new)
            )


def upgrade() -> None:
    _replace(FORMER_DEFAULT, NEW_DEFAULT)


def downgrade() -> None:
    _replace(NEW_DEFAULT, FORMER_DEFAULT)
