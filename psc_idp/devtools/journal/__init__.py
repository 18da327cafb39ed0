"""The request journal (issue 18): per client, what the SP sent, what it got, and the checks it
failed; ``psc-idp requests``, ``/dev/requests``. Bounded: a cap per client, an age for purge."""

from __future__ import annotations

from flask import Flask

from psc_idp.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Off, nothing is registered on the request path (no hook, no lookup, no write)."""
    from psc_idp.devtools.journal import recording, views
    from psc_idp.devtools.journal.purge import purge_journal
    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.purge import register_purge

    register_purge(app, "journal", purge_journal)  # rows written while it was on, too
    if settings.journal_on:
        recording.init_app(app)
    if settings.dev_mode:
        app.register_blueprint(views.bp)
        register_policy(app, ErrorPolicy("/dev/requests", json=False, blueprints=("dev_journal",)))
