"""The set-up side of the interface (Keycloak's ``configuredFor`` and required actions): each
means says whether a professional has set it up and where to do it; the account page links
there."""

from __future__ import annotations

import uuid

from psc_idp.extensions import db
from psc_idp.means.fido.models import FidoCredential
from psc_idp.means.registry import get_authenticator
from psc_idp.timeutil import now
from tests.means.ecps.helpers import activate_by_contact

NEWCOMER = "899700999982"  # in no directory: no device, no key, no scenario
SPECIALIST = "899700100987"


def test_configured_for_follows_devices_and_keys(app):
    with app.test_request_context():
        ecps, fido, card = (get_authenticator(i) for i in ("ecps", "fido", "card"))
        assert not ecps.configured_for(NEWCOMER) and not fido.configured_for(NEWCOMER)
        key = FidoCredential(
            id=str(uuid.uuid4()),
            national_id=NEWCOMER,
            credential_id=uuid.uuid4().hex,
            credential_data=b"",
            aaguid="00000000-0000-0000-0000-000000000000",
        )
        db.session.add(key)
        db.session.flush()
        assert fido.configured_for(NEWCOMER)
        key.revoked_at = now()
        db.session.flush()
        assert not fido.configured_for(NEWCOMER)
        db.session.rollback()
        assert ecps.setup_url() == "/wallet/account/ecps/card-activation"
        assert fido.setup_url() == "/wallet/account/keys/add"
        assert card is None or card.setup_url() is None  # a card is issued, not set up here
    activate_by_contact(app, SPECIALIST)
    with app.test_request_context():
        assert get_authenticator("ecps").configured_for(SPECIALIST)
