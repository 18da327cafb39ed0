"""« API Pro Santé Connectées »: one authorization server per protected API, at
``{base}/api-as/realms/<audience>``, exchanging a PSC access token (RFC 8693) for a short
certificate-bound token of that API; its userinfo; the demo API (``/demo-api/me``)."""

from __future__ import annotations

from flask import Flask

from psc_idp.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    from psc_idp.api_as import demo_api, views
    from psc_idp.api_as.keys import ApiSigningKeys
    from psc_idp.api_as.server import create_api_server

    # Retired keys stay published while a token they signed may live (an hour at most).
    app.extensions["psc_api_signing_keys"] = ApiSigningKeys(settings.keys_dir, publish_grace=3660)
    app.extensions["psc_api_authorization_server"] = create_api_server(app)
    views.register(app)
    demo_api.register(app)
