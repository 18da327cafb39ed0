"""The admin console (``/admin``): administrators with a password and TOTP or their CPS card;
clients, professionals and their means, signing keys, the audit trail. The top layer: it
drives the protocol's, the directory's, the means' and the keystore's own functions, and
nothing imports it."""

from __future__ import annotations

from flask import Flask

#: Where the console lives.
PREFIX = "/admin"


def init_app(app: Flask) -> None:
    from psc_idp.admin import (  # noqa: F401 (routes)
        auth,
        clients,
        keys,
        professionals,
        scenarios,
        trail,
    )
    from psc_idp.admin.blueprint import bp
    from psc_idp.admin.purge import purge_admin
    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.purge import register_purge

    app.register_blueprint(bp, url_prefix=PREFIX)
    register_policy(app, ErrorPolicy(PREFIX, json=False, blueprints=("admin",)))
    register_purge(app, "admin", purge_admin)
