"""A heavy client (DPI) registered for CIBA, and helpers that read like its calls."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from psc_idp.extensions import db
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.clients import upsert_client
from tests.helpers import TOKEN, basic
from tests.means.ecps.helpers import cancel_pending_pushes

CIBA_AUTH = "/auth/realms/esante-wallet/protocol/openid-connect/ext/ciba/auth"
GRANT = "urn:openid:params:grant-type:ciba"


class Dpi:
    def __init__(self, app, client_id: str, secret: str):
        self.app, self.client_id, self.secret = app, client_id, secret

    def ask(self, **params: str):
        data = {"scope": "openid scope_all", "binding_message": "42", **params}
        return self.app.test_client().post(
            CIBA_AUTH, data=data, headers=basic(self.client_id, self.secret)
        )

    def poll(self, auth_req_id: str, early_ok: bool = True, dpop: str | None = None):
        if early_ok:
            allow_next_poll(self.app, auth_req_id)
        headers = basic(self.client_id, self.secret)
        if dpop is not None:
            headers["DPoP"] = dpop
        return self.app.test_client().post(
            TOKEN, data={"grant_type": GRANT, "auth_req_id": auth_req_id}, headers=headers
        )


def allow_next_poll(app, auth_req_id: str) -> None:
    """Pretend the interval has passed since the last poll (no sleeping in tests)."""
    with app.app_context():
        for request in db.session.query(CibaRequest):
            if request.last_poll_at is not None:
                request.last_poll_at -= timedelta(seconds=request.interval + 1)
        db.session.commit()


@pytest.fixture(autouse=True)
def no_pending_pushes_left(app):
    """Each test starts and ends with no request waiting on the phones: a professional may
    have only ``PSC_ECPS_MAX_PENDING_PUSHES`` waiting, and the tests share one database."""
    cancel_pending_pushes(app)
    yield
    cancel_pending_pushes(app)


@pytest.fixture(scope="session")
def dpi(app) -> Dpi:
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": "dpi-test",
                "name": "DPI de test",
                "secret": secret,
                "grant_types": [GRANT, "refresh_token"],
            }
        )
        db.session.commit()
    return Dpi(app, "dpi-test", secret)
