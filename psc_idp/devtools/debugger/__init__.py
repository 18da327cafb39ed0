"""``/dev/debugger``: the built-in relying party of the development mode (docs/developer-tools.md,
« Débogueur / Debugger»). Registered in development mode only: elsewhere its paths are 404."""

from __future__ import annotations

from flask import Flask

from psc_idp.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    from psc_idp.devtools.debugger import views
    from psc_idp.devtools.debugger.purge import purge_debugger
    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.purge import register_purge

    register_purge(app, "debugger", purge_debugger)  # the table exists in every mode
    if settings.dev_mode:
        app.register_blueprint(views.bp)
        register_policy(app, ErrorPolicy("/dev/debugger", json=False, blueprints=("debugger",)))
