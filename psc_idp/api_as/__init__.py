"""« API Pro Santé Connectées »: one authorization server per protected API, at
``{base}/api-as/realms/<audience>``, exchanging a PSC access token (RFC 8693) for a short
certificate-bound token of that API; its userinfo; the demo API (``/demo-api/me``)."""

from __future__ import annotations

from flask import Flask

from psc_idp.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    from psc_idp.api_as import demo_api, views
    from psc_idp.api_as.apis import MAX_LIFETIME
    from psc_idp.api_as.keys import ApiSigningKeys
    from psc_idp.api_as.server import create_api_server

    # Retired keys stay published while a token they signed may live (plus clock skew).
    keys = ApiSigningKeys(settings.keys_dir, publish_grace=MAX_LIFETIME + 60)
    app.extensions["psc_api_signing_keys"] = keys
    _ensure_declared_keys(app, keys)
    app.extensions["psc_api_authorization_server"] = create_api_server(app)
    views.register(app)
    demo_api.register(app)


def _ensure_declared_keys(app: Flask, keys) -> None:
    """The keys of every API already declared, made at start rather than by the first request
    (which another worker would not see for up to a second)."""
    from sqlalchemy.exc import SQLAlchemyError

    from psc_idp.api_as.apis import all_apis
    from psc_idp.extensions import db

    with app.app_context():
        try:
            audiences = [api.audience for api in all_apis()]
        except SQLAlchemyError:  # schema not migrated yet: /health/ready says so
            db.session.rollback()
            return
    for audience in audiences:
        keys.of(audience)
