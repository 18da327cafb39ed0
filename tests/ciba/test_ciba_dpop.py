"""CIBA with DPoP (RFC 9449): the poll that gets the tokens carries a proof, and the access token
is bound to its key like any other grant's."""

from __future__ import annotations

from tests.dpop_client import Holder, challenged, refused, userinfo
from tests.helpers import decode
from tests.means.ecps.helpers import activate_by_contact

PHARMACIST = "899700100805"


def test_the_ciba_token_is_bound_to_the_polls_key(app, dpi):
    phone = activate_by_contact(app, PHARMACIST, pin="2580")
    asked = dpi.ask(login_hint=PHARMACIST, acr_values="eidas1")
    assert asked.status_code == 200, asked.get_json()
    auth_req_id = asked.get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["kind"] == "ciba")
    assert phone.decide(request, "approve", pin="2580").status_code == 200

    holder = Holder()
    # A bad proof is refused before the grant: the request stays approved, not spent.
    refused(dpi.poll(auth_req_id, dpop=holder.proof(htm="GET")), "htm")
    tokens = dpi.poll(auth_req_id, dpop=holder.proof())
    assert tokens.status_code == 200, tokens.get_json()
    token = tokens.get_json()
    assert token["token_type"] == "DPoP"
    access = token["access_token"]
    assert decode(access)["cnf"] == {"jkt": holder.jkt}
    assert userinfo(app, access, holder.for_token(access)).status_code == 200
    challenged(userinfo(app, access, scheme="Bearer"), "invalid_token")
