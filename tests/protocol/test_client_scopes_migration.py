"""Migration 0009: clients stored with the former default scopes get the new default; a list
someone chose is kept."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from psc_idp.extensions import db
from psc_idp.migrations import alembic_config, upgrade_database
from psc_idp.protocol.models import Client
from psc_idp.protocol.scopes import DEFAULT_CLIENT_SCOPES
from psc_idp.timeutil import now
from tests.helpers import REDIRECT

FORMER_DEFAULT = ["openid", "scope_all", "rpps", "identity"]
# The client table as revision 0008 has it: the models describe the newest schema only.
CLIENT_AT_0008 = sa.table(
    "oauth_client",
    sa.column("client_id", sa.String),
    sa.column("name", sa.String),
    sa.column("token_endpoint_auth_method", sa.String),
    *(
        sa.column(name, sa.JSON)
        for name in (
            "redirect_uris",
            "post_logout_redirect_uris",
            "grant_types",
            "response_types",
            "scopes",
        )
    ),
    *(
        sa.column(name, sa.Boolean)
        for name in (
            "allow_plain_pkce",
            "require_pkce",
            "tls_client_certificate_bound_access_tokens",
            "enabled",
        )
    ),
    sa.column("backchannel_token_delivery_mode", sa.String),
    sa.column("created_at", sa.DateTime),
)


def _register(connection, client_id: str, scopes: list[str]) -> None:
    connection.execute(
        CLIENT_AT_0008.insert().values(
            client_id=client_id,
            name="",
            token_endpoint_auth_method="none",
            redirect_uris=[REDIRECT],
            post_logout_redirect_uris=[],
            grant_types=["authorization_code"],
            response_types=["code"],
            scopes=scopes,
            allow_plain_pkce=False,
            require_pkce=False,
            tls_client_certificate_bound_access_tokens=False,
            enabled=True,
            backchannel_token_delivery_mode="poll",
            created_at=now(),
        )
    )


def test_former_default_scopes_become_the_new_default(make_app, fresh_database_url):
    # On a database of its own: going down to 0008 drops what later migrations added.
    app = make_app(database_url=fresh_database_url)
    with app.app_context():
        config = alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
            _register(connection, "mig-former-default", FORMER_DEFAULT)
            _register(connection, "mig-chosen", ["openid", "scope_all"])
        db.session.remove()
        upgrade_database()
        assert db.session.get(Client, "mig-former-default").scopes == DEFAULT_CLIENT_SCOPES
        assert db.session.get(Client, "mig-chosen").scopes == ["openid", "scope_all"]
