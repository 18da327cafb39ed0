"""The checks of an establishment's ID token, one by one: each wrong value is refused in French
and says why in its technical reason. Tokens are signed here with joserfc; the provider's
discovery and JWKS are served from memory (the full path runs against node-oidc-provider in
test_fi_tiers_login)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from psc_idp.means.fi_tiers import upstream
from psc_idp.means.fi_tiers.providers import provider_from
from tests.jose_keys import full_length_key

ISSUER = "https://sso.chu.example"
KEY = RSAKey.generate_key(2048, parameters={"kid": "chu-1", "alg": "RS256"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "chu-1", "alg": "RS256"})
PROVIDER = provider_from(
    {
        "alias": "FI_1",
        "issuer": ISSUER,
        "client_id": "psc-idp",
        "tenant_claim": "tid",
        "allowed_tenants": ["chu"],
        "accepted_amr": [{"amr": ["pwd", "mfa"], "acr": "eidas2"}],
    }
)
NONCE = "n-123"


@pytest.fixture(autouse=True)
def served(monkeypatch):
    documents = {
        f"{ISSUER}/.well-known/openid-configuration": {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
        },
        f"{ISSUER}/jwks": {"keys": [KEY.as_dict(private=False)]},
    }
    monkeypatch.setattr(upstream, "_get_json", lambda url, fresh=False: documents[url])


def token(key=KEY, alg: str = "RS256", **overrides) -> str:
    moment = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "psc-idp",
        "sub": "alice",
        "nonce": NONCE,
        "iat": moment,
        "exp": moment + 300,
        "tid": "chu",
        "amr": ["pwd", "mfa"],
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "chu-1"}, claims, key)


def refused(id_token: str) -> str:
    with pytest.raises(upstream.UpstreamError) as caught:
        upstream.verified_claims(PROVIDER, id_token, NONCE)
    assert caught.value.message  # a French sentence for the page
    return caught.value.reason


def test_a_good_token_passes_and_its_amr_gives_the_acr():
    claims = upstream.verified_claims(PROVIDER, token(), NONCE)
    assert claims["sub"] == "alice"
    assert PROVIDER.acr_for(claims["amr"]) == "eidas2"
    assert PROVIDER.acr_for(["pwd"]) is None  # one factor: no accepted set


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.example"}, "iss not allowed"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["psc-idp", "other"]}, "azp"),
        ({"nonce": "replayed"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"tid": "other-tenant"}, "tenant"),
        ({"sub": None}, "local user id"),
    ],
)
def test_each_wrong_claim_is_refused(overrides, reason):
    assert reason in refused(token(**overrides))


def test_a_token_signed_by_another_key_is_refused():
    assert "signature" in refused(token(key=OTHER_KEY))


def test_unsigned_tokens_and_keys_the_provider_never_published_are_refused():
    header = jwt.encode({"alg": "RS256"}, {"iss": ISSUER}, KEY).split(".")[1]
    assert "signature" in refused(f"eyJhbGciOiJub25lIn0.{header}.")
    ec = full_length_key({"kid": "chu-1"})  # 32-byte coordinates whatever joserfc's version
    assert "signature" in refused(token(key=ec, alg="ES256"))
