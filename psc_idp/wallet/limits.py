"""The login pages' limit per client address: la mire, the means' steps and the authorization
endpoint that opens them (not the waiting pages' status polls, which a page sends every
second). Past it, a French page with ``Retry-After`` (``wallet/errors.py``)."""

from __future__ import annotations

from flask import Flask, request

from psc_idp import rate_limits
from psc_idp.http.address import client_address

LOGIN_PAGES = frozenset({"authorization.authorize", "wallet.login_page", "wallet.means"})


def init_app(app: Flask) -> None:
    @app.before_request
    def limit_login_pages() -> None:
        if request.endpoint in LOGIN_PAGES:
            rate_limits.enforce("login_ip", client_address(request))
