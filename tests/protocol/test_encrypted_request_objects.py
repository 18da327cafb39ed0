"""Request objects encrypted to our key (RFC 9101 §6.1): a JWE whose payload is the request
object signed by the client, at the authorization endpoint (by value and by reference) and at
PAR. The client's side is joserfc's, with the encryption key our JWKS publishes.

What the signature checks refuse in clear (tests/protocol/test_request_objects.py) they refuse
encrypted too: only the envelope is new here."""

from __future__ import annotations

import json
import secrets
from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jwe
from joserfc.jwk import RSAKey

from psc_idp.extensions import db
from psc_idp.protocol.clients import upsert_client
from psc_idp.protocol.encryption.incoming import DecryptionRefused, decrypt_request_object
from psc_idp.protocol.models import Client
from tests.helpers import CERTS, REDIRECT, RegisteredClient
from tests.protocol.test_request_objects import (
    KEYED,
    KEYS,
    authorize,
    error_at_redirect,
    push,
    registered,  # noqa: F401 (the fixture that registers KEYED)
    served,  # noqa: F401 (the request_uri server that fixture uses)
    signed,
    starts_login,
)

ALGS = ("RSA-OAEP", "RSA-OAEP-256")
ENCS = ("A256GCM", "A192GCM", "A128GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512")
#: Registered request_object_encryption_alg/enc: then encryption with those is required.
STRICT = "jar-encrypted-only"
STRICT_SECRET = secrets.token_urlsafe(32)


def our_encryption_key(app) -> RSAKey:
    published = app.test_client().get(CERTS).get_json()["keys"]
    (key,) = [k for k in published if k["use"] == "enc"]
    assert key["kty"] == "RSA" and "d" not in key
    return RSAKey.import_key(key)


def encrypted(
    app,
    payload: str | bytes,
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
    key: RSAKey | None = None,
    **header: Any,
) -> str:
    key = key or our_encryption_key(app)
    protected = {"alg": alg, "enc": enc, "cty": "JWT", "kid": key.kid, **header}
    protected = {k: v for k, v in protected.items() if v is not None}
    allowed = [alg, enc, *(["DEF"] if "zip" in protected else [])]
    return jwe.encrypt_compact(protected, payload, key, algorithms=allowed)


@pytest.fixture(scope="module")
def strict(app) -> RegisteredClient:
    with app.app_context():
        upsert_client(
            {
                "client_id": STRICT,
                "secret": STRICT_SECRET,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code"],
                "jwks": KEYS.jwks(),
                "request_object_encryption_alg": "RSA-OAEP",
                "request_object_encryption_enc": "A128GCM",
            }
        )
        db.session.commit()
    return RegisteredClient(STRICT, STRICT_SECRET)


def test_our_encryption_key_is_published_for_encryption_only(app):
    published = app.test_client().get(CERTS).get_json()["keys"]
    (key,) = [k for k in published if k["use"] == "enc"]
    # No alg: the client picks RSA-OAEP or RSA-OAEP-256 (discovery lists both).
    assert "alg" not in key and key["kid"] and key["kty"] == "RSA"
    assert "key_ops" not in key  # PyJWT would say verify, which use: enc contradicts
    assert key["kid"] not in {k["kid"] for k in published if k["use"] == "sig"}


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("enc", ENCS)
def test_an_encrypted_signed_request_is_accepted(app, browser, registered, alg, enc):  # noqa: F811
    starts_login(authorize(browser, client_id=KEYED, request=encrypted(app, signed(), alg, enc)))


def test_without_kid_every_key_of_ours_is_tried(app, browser, registered):  # noqa: F811
    starts_login(authorize(browser, client_id=KEYED, request=encrypted(app, signed(), kid=None)))


def test_by_reference_too(app, browser, registered, served):  # noqa: F811
    served.routes["/ro.jwt"] = (200, encrypted(app, signed()).encode(), 0.0)
    starts_login(authorize(browser, client_id=KEYED, request_uri=served.url("/ro.jwt")))


def test_at_par(app, registered):  # noqa: F811
    response = push(app, registered[KEYED], client_id=KEYED, request=encrypted(app, signed()))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")


def refused(browser, request: str, client_id: str = KEYED) -> str:
    answer = error_at_redirect(authorize(browser, client_id=client_id, request=request))
    assert answer["error"] == "invalid_request_object", answer
    # RFC 9101 §6.3: the state inside is unreadable, so none outside counts either.
    return answer.get("error_description", "")


def test_encrypted_to_another_key_is_refused(app, browser, registered):  # noqa: F811
    stranger = RSAKey.generate_key(2048, parameters={"kid": our_encryption_key(app).kid})
    said = refused(browser, encrypted(app, signed(), key=stranger))
    assert said == "The request object could not be decrypted"


def test_a_tampered_ciphertext_is_refused(app, browser, registered):  # noqa: F811
    parts = encrypted(app, signed()).split(".")
    flipped = "A" if parts[3][0] != "A" else "B"
    parts[3] = flipped + parts[3][1:]
    assert refused(browser, ".".join(parts)) == "The request object could not be decrypted"


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ({"zip": "DEF"}, "Compressed request objects are not accepted"),
        ({"enc": "A128CBC"}, "Unsupported request object encryption algorithm"),
    ],
)
def test_a_header_outside_what_is_supported_is_refused(
    app,
    browser,
    registered,  # noqa: F811
    header,
    said,
):
    if header.get("enc") == "A128CBC":
        # Not a real enc: craft the header alone (a library would not encrypt with it).
        parts = encrypted(app, signed()).split(".")
        forged = {"alg": "RSA-OAEP-256", "enc": "A128CBC", "cty": "JWT"}
        parts[0] = pyjwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
        request = ".".join(parts)
    else:
        request = encrypted(app, signed(), **header)
    assert refused(browser, request) == said


def test_an_unsigned_object_inside_is_refused(app, browser, registered):  # noqa: F811
    """Encryption is not a signature: ``alg: none`` inside is refused as it is in clear."""
    unsigned = pyjwt.encode(
        pyjwt.decode(signed(), options={"verify_signature": False}), None, algorithm="none"
    )
    assert refused(browser, encrypted(app, unsigned)) == "Unsupported request object algorithm"
    claims_only = json.dumps({"client_id": KEYED, "response_type": "code"})
    assert refused(browser, encrypted(app, claims_only)) == "The request object is not a JWS"


def test_the_signature_inside_is_still_checked(app, browser, registered):  # noqa: F811
    forged = signed(key=KEYS.other)  # kid rsa-1, but another key signed it
    assert refused(browser, encrypted(app, forged)) == "Invalid request object signature"


def test_a_jwe_too_large_or_malformed_is_refused(app, browser, registered):  # noqa: F811
    assert refused(browser, "a.b.c.d." + "A" * 17000) == "The request object is not a JWE"
    assert refused(browser, "!!.b.c.d.e") == "The request object is not a JWE"


# --- a client that registered request_object_encryption_alg/enc -------------------------------
def test_a_client_that_registered_encryption_must_encrypt(app, browser, strict):
    plain = signed(STRICT)
    assert refused(browser, plain, STRICT) == "The request object must be encrypted"


def test_and_with_the_registered_alg_and_enc(app, browser, strict):
    wrong_alg = encrypted(app, signed(STRICT), "RSA-OAEP-256", "A128GCM")
    wrong_enc = encrypted(app, signed(STRICT), "RSA-OAEP", "A256GCM")
    for request in (wrong_alg, wrong_enc):
        said = refused(browser, request, STRICT)
        assert said == "The request object is not encrypted as the client registered"
    right = encrypted(app, signed(STRICT), "RSA-OAEP", "A128GCM")
    starts_login(authorize(browser, client_id=STRICT, request=right))


def test_an_encryption_key_beside_the_signing_keys_is_no_obstacle(app, browser):
    """A client publishes its encryption key in the same set: the signature is still checked
    with its signing key (PyJWT cannot read an RSA-OAEP-256 key, it is left aside)."""
    encryption_key = RSAKey.generate_key(2048, parameters={"kid": "rp-enc", "alg": "RSA-OAEP-256"})
    jwks = KEYS.jwks()
    jwks["keys"].append({**encryption_key.as_dict(private=False), "use": "enc"})
    with app.app_context():
        upsert_client(
            {
                "client_id": "jar-mixed-keys",
                "secret": STRICT_SECRET,
                "redirect_uris": [REDIRECT],
                "jwks": jwks,
                "id_token_encrypted_response_alg": "RSA-OAEP-256",
            }
        )
        db.session.commit()
    request = encrypted(app, signed("jar-mixed-keys"))
    starts_login(authorize(browser, client_id="jar-mixed-keys", request=request))


# --- our key's rotation ------------------------------------------------------------------------
def test_rotation_publishes_a_new_key_and_the_old_one_still_decrypts(make_app, tmp_path):
    app = make_app(keys_dir=str(tmp_path / "keys"), database_url=f"sqlite:///{tmp_path}/db")
    before = our_encryption_key(app)
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--encryption", "--json"])
    assert result.exit_code == 0, result.output
    published = app.test_client().get(CERTS).get_json()["keys"]
    encryption_kids = [k["kid"] for k in published if k["use"] == "enc"]
    assert before.kid in encryption_kids and len(encryption_kids) == 2
    assert len([k for k in published if k["use"] == "sig"]) == 3  # the signing keys untouched
    to_old_key = encrypted(app, "a.b.c", key=before)
    anyone = Client(client_id="anyone")
    with app.app_context():
        assert decrypt_request_object(to_old_key, anyone) == "a.b.c"
        # Past the grace, the retired key neither decrypts nor is published.
        for marker in (tmp_path / "keys" / "encryption").glob("*.retired"):
            marker.write_text("0")
        app.extensions["psc_encryption_keys"].rotate(())  # no new key; instances reload
        with pytest.raises(DecryptionRefused):
            decrypt_request_object(to_old_key, anyone)
    published = app.test_client().get(CERTS).get_json()["keys"]
    assert [k["kid"] for k in published if k["use"] == "enc"] == [
        kid for kid in encryption_kids if kid != before.kid
    ]
