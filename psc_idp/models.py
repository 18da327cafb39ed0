"""Every persistent model, imported in one place for Alembic and ``create_all``."""

from psc_idp.directory.models import *  # noqa: F403
from psc_idp.login.models import LoginTransaction, SsoSession
from psc_idp.protocol.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    RefreshToken,
    UsedAssertion,
)
from psc_idp.realm.models import RealmOption

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "Client",
    "Grant",
    "LoginTransaction",
    "RealmOption",
    "RefreshToken",
    "SsoSession",
    "UsedAssertion",
]
