"""CIBA for a client that registered ID token encryption: the polled ID token is a JWE to its
key, as the code and refresh grants' (tests/protocol/test_encryption.py)."""

from __future__ import annotations

import secrets

from joserfc import jwe
from joserfc.jwk import RSAKey

from psc_idp.extensions import db
from psc_idp.protocol.clients import upsert_client
from tests.ciba.conftest import GRANT, Dpi
from tests.helpers import decode
from tests.means.ecps.helpers import activate_by_contact

NURSE = "899700100490"
KEY = RSAKey.generate_key(2048, parameters={"kid": "dpi-enc", "use": "enc"})


def test_the_polled_id_token_is_encrypted_to_the_client(app):
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": "dpi-encrypted",
                "name": "DPI chiffré",
                "secret": secret,
                "grant_types": [GRANT],
                "jwks": {"keys": [KEY.as_dict(private=False)]},
                "id_token_encrypted_response_alg": "RSA-OAEP",
                "id_token_encrypted_response_enc": "A128GCM",
            }
        )
        db.session.commit()
    dpi = Dpi(app, "dpi-encrypted", secret)
    phone = activate_by_contact(app, NURSE, pin="1357")
    auth_req_id = dpi.ask(login_hint=NURSE).get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["kind"] == "ciba")
    assert phone.decide(request, "approve", pin="1357").status_code == 200
    tokens = dpi.poll(auth_req_id)
    assert tokens.status_code == 200, tokens.get_json()
    opened = jwe.decrypt_compact(
        tokens.get_json()["id_token"], KEY, algorithms=["RSA-OAEP", "A128GCM"]
    )
    assert (opened.protected["kid"], opened.protected["cty"]) == ("dpi-enc", "JWT")
    claims = decode(opened.plaintext.decode())
    assert (claims["SubjectNameID"], claims["aud"]) == (NURSE, "dpi-encrypted")
