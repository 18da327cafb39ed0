"""Access tokens verified once per process: what may change is still checked at every use
(revocation, expiry, the key leaving the key set)."""

from __future__ import annotations

import time

from psc_idp.protocol.verified import VerifiedTokens
from tests.helpers import (
    INTROSPECT,
    REVOKE,
    USERINFO,
    basic,
    decode,
    login_and_get_tokens,
    token_call,
)


def test_the_memo_is_bounded_and_hands_out_copies():
    memo = VerifiedTokens(capacity=2)
    memo.put("a", "k1", {"exp": 1})
    memo.put("b", "k1", {"exp": 2})
    memo.get("a")  # used: "b" is now the least recently used
    memo.put("c", "k2", {"exp": 3})
    assert len(memo) == 2 and memo.get("b") is None
    kid, claims = memo.get("a")
    claims["exp"] = 99
    assert kid == "k1" and memo.get("a") == ("k1", {"exp": 1})


def _introspect(app, client, token: str) -> dict:
    auth = basic(client.client_id, client.secret)
    return app.test_client().post(INTROSPECT, data={"token": token}, headers=auth).get_json()


def test_a_remembered_token_revoked_is_inactive_at_once(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    access = tokens["access_token"]
    assert _introspect(app, clients.web, access)["active"] is True
    assert _introspect(app, clients.web, access)["active"] is True  # from the memo
    auth = basic(clients.web.client_id, clients.web.secret)
    assert app.test_client().post(REVOKE, data={"token": access}, headers=auth).status_code == 200
    assert _introspect(app, clients.web, access) == {"active": False}
    bearer = {"Authorization": f"Bearer {access}"}
    assert app.test_client().get(USERINFO, headers=bearer).status_code == 401


def test_a_remembered_token_expires_on_time(make_app, browser, clients):
    # Times are whole seconds: a 3-second token is valid for at least 2 s after it is issued.
    app = make_app(access_token_lifetime=3)
    clients = type(clients).ensure(app)
    access = login_and_get_tokens(app, type(browser)(app), clients.web)["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    assert app.test_client().get(USERINFO, headers=bearer).status_code == 200
    assert _introspect(app, clients.web, access)["active"] is True
    time.sleep(max(0.0, decode(access)["exp"] - time.time()) + 0.2)  # its exp is behind us
    assert app.test_client().get(USERINFO, headers=bearer).status_code == 401
    assert _introspect(app, clients.web, access) == {"active": False}


def test_a_remembered_token_of_a_pruned_key_is_refused(
    make_app, clients, tmp_path, fresh_database_url
):
    # Keys of its own to rotate, hence a database of its own: client secrets are stored under
    # the keys' application secret.
    app = make_app(keys_dir=str(tmp_path / "keys"), database_url=fresh_database_url)
    clients = type(clients).ensure(app)
    access = token_call(app, clients.web, grant_type="client_credentials").get_json()[
        "access_token"
    ]
    assert _introspect(app, clients.web, access)["active"] is True
    signing = app.extensions["psc_signing_keys"]
    signing.publish_grace = 0  # the retired key leaves the key set at once
    signing.rotate()
    assert _introspect(app, clients.web, access) == {"active": False}
    fresh = token_call(app, clients.web, grant_type="client_credentials").get_json()
    assert _introspect(app, clients.web, fresh["access_token"])["active"] is True
