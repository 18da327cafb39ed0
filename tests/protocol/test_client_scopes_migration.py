"""Migration 0009: clients stored with the former default scopes get the new default; a list
someone chose is kept."""

from __future__ import annotations

from alembic import command

from psc_idp.extensions import db
from psc_idp.migrations import alembic_config, upgrade_database
from psc_idp.protocol.clients import upsert_client
from psc_idp.protocol.models import Client
from psc_idp.protocol.scopes import DEFAULT_CLIENT_SCOPES
from tests.helpers import REDIRECT

FORMER_DEFAULT = ["openid", "scope_all", "rpps", "identity"]


def _register(client_id: str, scopes: list[str]) -> None:
    upsert_client(
        {"client_id": client_id, "secret": "s" * 32, "redirect_uris": [REDIRECT], "scopes": scopes}
    )


def test_former_default_scopes_become_the_new_default(app):
    with app.app_context():
        config = alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        _register("mig-former-default", FORMER_DEFAULT)
        _register("mig-chosen", ["openid", "scope_all"])
        db.session.commit()
        db.session.remove()
        upgrade_database()
        assert db.session.get(Client, "mig-former-default").scopes == DEFAULT_CLIENT_SCOPES
        assert db.session.get(Client, "mig-chosen").scopes == ["openid", "scope_all"]
