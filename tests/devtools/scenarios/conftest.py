"""A client of the scenarios' tests (code, refresh, service account, CIBA), its scenarios
removed after each test, and helpers that read like the developer's commands."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.rules import check
from psc_idp.extensions import db
from tests.helpers import RegisteredClient, register_client

CLIENT_ID = "scenario-rp"
CALLBACK = "http://localhost:3000/callback"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"


@pytest.fixture(scope="session")
def app(make_app) -> Flask:
    """The suite's app with error scenarios on, as in development mode by default."""
    return make_app(scenarios=True)


@pytest.fixture(scope="session")
def rp(app) -> RegisteredClient:
    return register_client(
        app,
        CLIENT_ID,
        grant_types=["authorization_code", "refresh_token", "client_credentials", CIBA_GRANT],
    )


@pytest.fixture(autouse=True)
def no_scenarios_left(app, rp):
    yield
    with app.app_context():
        store.remove(CLIENT_ID)
        db.session.commit()


def add_scenario(
    app, endpoint: str, effect: str, value: Any = True, national_id: str | None = None
) -> str:
    with app.app_context():
        row, _ = store.add(check(CLIENT_ID, national_id, endpoint, effect, value))
        db.session.commit()
        return row.id
