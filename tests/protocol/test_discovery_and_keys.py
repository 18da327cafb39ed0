"""Discovery documents, JWKS and key rotation."""

from __future__ import annotations

import time

import jwt
import pytest
from click.testing import Result

from tests.helpers import CERTS, ISSUER_PATH, decode, login_and_get_tokens

ISSUER = "http://localhost:8080/auth/realms/esante-wallet"


@pytest.mark.parametrize("name", ["openid-configuration", "wallet-openid-configuration"])
def test_both_discovery_names_answer_the_same(app, name):
    body = app.test_client().get(f"{ISSUER_PATH}/.well-known/{name}").get_json()
    assert body["issuer"] == ISSUER
    assert body["authorization_endpoint"] == "http://localhost:8080/wallet/auth"
    assert body["token_endpoint"] == f"{ISSUER}/protocol/openid-connect/token"
    assert body["jwks_uri"] == f"{ISSUER}/protocol/openid-connect/certs"
    assert body["authorization_response_iss_parameter_supported"] is True
    assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
    # Advertises only what works today.
    assert body["backchannel_authentication_endpoint"].endswith("/ext/ciba/auth")
    assert "tls_client_auth" in body["token_endpoint_auth_methods_supported"]
    assert body["tls_client_certificate_bound_access_tokens"] is True
    assert body["mtls_endpoint_aliases"]["token_endpoint"] == (
        "https://localhost:8443/auth/realms/esante-wallet/protocol/openid-connect/token"
    )


def test_keycloak_authorization_path_also_works(app, clients):
    response = app.test_client().get(
        f"{ISSUER_PATH}/protocol/openid-connect/auth",
        query_string={
            "response_type": "code",
            "client_id": "test-web",
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/wallet/login/")


def signing_kids(app) -> set[str]:
    keys = app.test_client().get(CERTS).get_json()["keys"]
    return {k["kid"] for k in keys if k["use"] == "sig"}


def test_jwks_publishes_one_key_per_algorithm(app):
    keys = app.test_client().get(CERTS).get_json()["keys"]
    signing = [k for k in keys if k["use"] == "sig"]
    assert sorted(k["alg"] for k in signing) == ["ES256", "PS256", "RS256"]
    assert all(k["kid"] for k in keys)
    # Besides them, the request objects' encryption key (tests/protocol/test_encryption.py).
    assert [k["use"] for k in keys if k not in signing] == ["enc"]
    assert all("d" not in k for k in keys)  # never a private member


def _run(app, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def _own_keys_app(make_app, tmp_path):
    # Its own keys folder means its own app secret: give it its own database too, as a separate
    # deployment would have (instances of one deployment share both).
    return make_app(keys_dir=str(tmp_path / "keys"), database_url=f"sqlite:///{tmp_path}/db")


def test_rotation_publishes_new_key_and_keeps_the_old_one(make_app, tmp_path):
    app = _own_keys_app(make_app, tmp_path)
    before = signing_kids(app)
    _run(app, "keys", "rotate", "--alg", "RS256")
    after = signing_kids(app)
    assert before < after and len(after) == 4
    from tests.helpers import Browser, TestClients

    tokens = login_and_get_tokens(app, Browser(app), TestClients.ensure(app).web)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    assert kid in after - before
    assert decode(tokens["access_token"])["iss"] == ISSUER


def test_retired_key_leaves_the_jwks_once_its_tokens_expired(make_app, tmp_path):
    app = _own_keys_app(make_app, tmp_path)
    keys = app.test_client().get(CERTS).get_json()["keys"]
    old = {k["kid"] for k in keys if k.get("alg") == "ES256"}
    _run(app, "keys", "rotate", "--alg", "ES256")
    # Pretend the rotation happened long ago: past every token lifetime.
    for marker in (tmp_path / "keys" / "signing").glob("ES256-*.retired"):
        marker.write_text(str(time.time() - 3600))
    _run(app, "keys", "rotate", "--alg", "RS256")  # any write makes instances reload
    published = signing_kids(app)
    assert not old & published
    assert len(published) == 4  # ES256 new, PS256, RS256 new and the RS256 just retired


@pytest.mark.parametrize("path", [CERTS, f"{ISSUER_PATH}/.well-known/openid-configuration"])
def test_published_documents_carry_an_etag_and_answer_304(app, path):
    web = app.test_client()
    first = web.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first.get_json()
    assert first.headers["Cache-Control"] == "no-cache"
    again = web.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert web.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    stale = web.get(path, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.get_json() == first.get_json()


def test_jwks_etag_changes_when_another_instance_rotates(make_app, tmp_path):
    app = _own_keys_app(make_app, tmp_path)
    other = make_app(keys_dir=str(tmp_path / "keys"), database_url=f"sqlite:///{tmp_path}/db")
    before = app.test_client().get(CERTS)
    _run(other, "keys", "rotate", "--alg", "RS256")
    time.sleep(1.1)  # each instance looks at the shared folder at most once a second
    after = app.test_client().get(CERTS, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert len(after.get_json()["keys"]) == len(before.get_json()["keys"]) + 1


def test_cached_jwks_drops_a_retired_key_when_its_grace_ends(tmp_path, monkeypatch):
    from psc_idp.keystore import signing

    keys = signing.SigningKeys(tmp_path, publish_grace=60)
    keys.ensure()
    keys.rotate(("ES256",))
    assert len(keys.jwks()["keys"]) == 4  # the retired ES256 key is still published
    later = time.time() + 120
    monkeypatch.setattr(signing.time, "time", lambda: later)
    published = keys.jwks()["keys"]
    assert len(published) == 3
    assert sorted(k["alg"] for k in published) == ["ES256", "PS256", "RS256"]
