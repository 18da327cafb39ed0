from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete

from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiIdentityProvider, FiTiersPairing
from psc_idp.realm.loader import import_realm
from psc_idp.timeutil import now
from tests.means.ecps.helpers import cancel_pending_pushes
from tests.means.fi_tiers.establishment import CLIENT_ID, Establishment, establishment

ALIAS = "FI_750712184"
PROFESSIONAL = "899700101308"  # the professional the establishment's accounts are paired with
CALLBACK = "http://localhost:8080/wallet/fi-tiers/callback"


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Establishment]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the establishment's provider")
    with establishment(tmp_path_factory.mktemp("establishment"), CALLBACK) as running:
        yield running


@pytest.fixture(autouse=True)
def no_pending_pushes_left(app):
    """Pairing asks the professional's e-CPS: no request another test left waiting may fill
    the professional's pending set first."""
    cancel_pending_pushes(app)
    yield
    cancel_pending_pushes(app)


def provider_entry(upstream: Establishment, **overrides) -> dict:
    return {
        "alias": ALIAS,
        "name": "CHU de démonstration",
        "issuer": upstream.issuer,
        "client_id": CLIENT_ID,
        "client_secret": upstream.client_secret,
        "scopes": ["openid"],
        "user_id_claim": "sub",
        "tenant_claim": "tid",
        "allowed_tenants": ["chu"],
        "accepted_amr": [
            {"amr": ["pwd", "mfa"], "acr": "eidas2"},
            {"amr": ["sc", "pin"], "acr": "eidas3"},
        ],
        "pairing": {"means": ["MOBILE"], "lifetime": 3600},
        **overrides,
    }


def configure(app, entry: dict, paired_local_id: str | None = None) -> None:
    """The provider ``entry`` in the realm; with ``paired_local_id``, that local account already
    paired (by e-CPS, for an hour) with the tests' professional."""
    with app.app_context():
        import_realm({"identity_providers": [entry]})
        if paired_local_id is not None:
            db.session.merge(
                FiTiersPairing(
                    alias=entry["alias"],
                    local_id=paired_local_id,
                    national_id=PROFESSIONAL,
                    paired_by="MOBILE",
                    expires_at=now() + timedelta(hours=1),
                )
            )
        db.session.commit()


def _forget_providers(app) -> None:
    with app.app_context():
        db.session.execute(delete(FiTiersPairing))
        db.session.execute(delete(FiIdentityProvider))
        db.session.commit()


@pytest.fixture
def cleanup(app) -> Iterator[None]:
    """Every provider and pairing a test configured, gone after it: la mire of the other tests
    is unchanged."""
    yield
    _forget_providers(app)


@pytest.fixture
def configured(app, upstream, cleanup) -> dict:
    """The establishment in the realm for one test."""
    entry = provider_entry(upstream)
    configure(app, entry)
    return entry
