"""Each check the journal lists, found on a request that fails it (or is accepted with it)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from psc_idp.devtools.journal.checks import CHECKS, detect
from psc_idp.devtools.journal.masking import mask_header, mask_pairs, mask_url
from tests.devtools.journal.conftest import codes, rows
from tests.helpers import TOKEN, Browser, TestClients, exchange_code, pkce_pair, token_call


@pytest.fixture
def jclients(journal_app) -> TestClients:
    return TestClients.ensure(journal_app)


def _last(app, client_id: str) -> dict:
    return rows(app, client_id)[-1]


def test_accepted_but_worth_telling_no_nonce_no_state_no_pkce(journal_app, own_client):
    answer = Browser(journal_app).authorize(own_client.client_id, nonce=None, state=None)
    assert answer.status_code == 302  # accepted: la mire
    assert codes(_last(journal_app, own_client.client_id)) == {
        "nonce_missing": False,
        "pkce_missing": False,
        "state_missing": False,
    }


def test_plain_pkce_is_a_warning(journal_app, jclients):
    answer = Browser(journal_app).authorize(
        jclients.plain.client_id, code_challenge="a" * 43, code_challenge_method="plain"
    )
    assert answer.status_code == 302
    assert codes(_last(journal_app, jclients.plain.client_id)) == {"pkce_plain": False}


def test_no_pkce_for_a_public_client_is_a_refusal(journal_app, jclients):
    answer = Browser(journal_app).authorize(jclients.public.client_id)
    last = _last(journal_app, jclients.public.client_id)
    assert answer.status_code in (302, 400) and last["answer"].get("error") == "invalid_request"
    assert codes(last)["pkce_missing"] is True


def test_an_unregistered_redirect_uri_is_a_refusal(journal_app, own_client):
    answer = Browser(journal_app).authorize(
        own_client.client_id,
        redirect_uri="https://evil.example/cb",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    assert answer.status_code == 400  # a French page, no redirect
    last = _last(journal_app, own_client.client_id)
    assert codes(last) == {"redirect_uri_unregistered": True}
    assert last["answer"]["page"] == "InvalidAuthorizationRequest"  # what the page said
    assert "redirect_uri" in last["answer"]["error_description"]


@pytest.mark.parametrize(
    ("param", "value", "code"),
    [
        ("acr_values", "eidas9", "acr_unknown"),
        ("scope", "openid scope_all inventé", "scope_unknown"),
    ],
)
def test_an_unknown_acr_or_scope_is_named(journal_app, own_client, param, value, code):
    _, challenge = pkce_pair()
    answer = Browser(journal_app).authorize(
        own_client.client_id,
        code_challenge=challenge,
        code_challenge_method="S256",
        **{param: value},
    )
    last = _last(journal_app, own_client.client_id)
    found = codes(last)
    assert code in found
    # A refusal exactly when psc-idp refused the request.
    refused = "error=" in answer.headers.get("Location", "") or answer.status_code == 400
    assert found[code] is refused


def test_a_wrong_client_secret_and_a_missing_authentication(journal_app, own_client):
    token_call(journal_app, own_client, grant_type="client_credentials", client_secret="x")
    journal_app.test_client().post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": own_client.client_id,
            "client_secret": "pas-le-bon",
        },
    )
    journal_app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": own_client.client_id}
    )
    *_, secret_row, missing_row = rows(journal_app, own_client.client_id)
    assert codes(secret_row) == {"client_secret_wrong": True}
    assert "pas-le-bon" not in str(secret_row)
    assert codes(missing_row) == {"client_auth_missing": True}


def _assertion_call(app, assertion: str):
    return app.test_client().post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_an_expired_a_replayed_and_a_wrongly_signed_assertion(journal_app, jclients):
    client = jclients.jwt
    expired = client.assertion(iat=int(time.time()) - 600, exp=int(time.time()) - 300)
    assert _assertion_call(journal_app, expired).status_code == 401
    assert codes(_last(journal_app, client.client_id)) == {"assertion_expired": True}

    once = client.assertion()
    assert _assertion_call(journal_app, once).status_code == 200
    assert _assertion_call(journal_app, once).status_code == 401
    replayed = _last(journal_app, client.client_id)
    assert codes(replayed) == {"assertion_replayed": True}
    assert once not in str(replayed) and once.rsplit(".", 1)[1] not in str(replayed)
    # The claims stay readable (exp, jti): what the assertion's author needs to see.
    assert replayed["sent"]["form"]["client_assertion"] == once.rsplit(".", 1)[0] + ".…"

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": client.client_id,
            "sub": client.client_id,
            "jti": "j-" + str(now),
            "aud": f"http://localhost:8080{TOKEN}",
            "iat": now,
            "exp": now + 60,
        },
        other_key,
        algorithm="RS256",
        headers={"kid": client.kid},
    )
    assert _assertion_call(journal_app, forged).status_code == 401
    assert codes(_last(journal_app, client.client_id)) == {"assertion_signature": True}


def test_a_bad_code_a_wrong_verifier_and_a_bad_refresh_token(journal_app, own_client):
    assert exchange_code(journal_app, own_client, "pas-un-code").status_code == 400
    assert codes(_last(journal_app, own_client.client_id)) == {"code_invalid": True}

    verifier, challenge = pkce_pair()
    callback = Browser(journal_app).login(
        own_client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    wrong = exchange_code(journal_app, own_client, callback["code"], verifier[::-1])
    assert wrong.status_code == 400
    assert codes(_last(journal_app, own_client.client_id)) == {"pkce_verifier_wrong": True}

    token_call(journal_app, own_client, grant_type="refresh_token", refresh_token="pas-un-jeton")
    assert codes(_last(journal_app, own_client.client_id)) == {"refresh_token_invalid": True}


def test_every_check_has_both_labels():
    assert all(check.french and check.english for check in CHECKS.values())
    assert not any(check.french == check.english for check in CHECKS.values())


def test_the_same_flaw_is_a_warning_accepted_and_a_refusal_refused():
    params = {
        "scope": "openid",
        "response_type": "code",
        "state": "s",
        "code_challenge": "c",
        "code_challenge_method": "S256",
    }

    class Client:
        def check_redirect_uri(self, uri):
            return True

    accepted = detect("authorize", params, Client(), {"status": 302}, False)
    refused = detect("authorize", params, Client(), {"error": "invalid_request"}, False)
    assert accepted == [{"code": "nonce_missing", "refusal": False}]
    assert refused == [{"code": "nonce_missing", "refusal": True}]


def test_masking_keeps_nothing_usable():
    masked = mask_pairs(
        [
            ("client_secret", "s3cr3t-valeur"),
            ("code", "abcdefghijklmnop"),
            ("pin", "1234"),
            ("password", "motdepasse"),
            ("scope", "openid"),
            ("token", "a.b.signature"),
        ]
    )
    assert masked["scope"] == "openid"
    assert "s3cr3t" not in masked["client_secret"] and "1234" not in masked["pin"]
    assert masked["code"].startswith("abcd") and "ijklmnop" not in masked["code"]
    assert masked["token"] == "a.b.…"
    assert "motdepasse" not in masked["password"]
    assert mask_header("Authorization", "Bearer x.y.zzz") == "Bearer x.y.…"
    url = mask_url("http://localhost:3000/cb?code=abcdefghijklmnop&state=s#id_token=h.p.sig")
    assert "ijklmnop" not in url and "state=s" in url and "sig" not in url
