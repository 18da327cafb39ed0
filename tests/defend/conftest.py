"""An app with the product's default limits and lockouts (the suite's own app turns them off),
fresh subjects for each test, and a clock the tests move instead of sleeping."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest

from psc_idp import lockout, throttle
from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.protocol.clients import upsert_client
from psc_idp.timeutil import now
from tests.conftest import RATE_LIMIT_SETTINGS

GRANTS = ["client_credentials", "authorization_code", "urn:openid:params:grant-type:ciba"]


def defaults() -> dict[str, object]:
    """The product's defaults for every limit and lockout setting."""
    product = Settings()
    return {
        **{name: getattr(product, name) for name in RATE_LIMIT_SETTINGS},
        "lockout_enabled": True,
    }


@pytest.fixture(scope="module")
def defended(make_app):
    return make_app(**defaults())


class Clock:
    """``now()`` as the throttle and the lockouts read it: still (a test's requests never
    straddle the end of a fixed window), moved forward by the tests."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.offset = timedelta()
        self.start = now()
        for module in (lockout, throttle):
            monkeypatch.setattr(module, "now", self.now)

    def now(self) -> datetime:
        return self.start + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def new_client(app, **fields) -> tuple[str, str]:
    """A confidential client of its own (the suite shares one database)."""
    client_id, secret = f"defend-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "grant_types": GRANTS,
                "redirect_uris": ["http://localhost:3000/callback"],
                **fields,
            }
        )
        db.session.commit()
    return client_id, secret
