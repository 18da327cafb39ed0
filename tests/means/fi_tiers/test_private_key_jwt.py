"""``token_endpoint_auth_method: private_key_jwt`` towards the establishment: psc-idp signs a
client assertion with its realm key, which the establishment checks with the JWKS psc-idp
publishes (node-oidc-provider, the client registered with those keys)."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from psc_idp.means.fi_tiers import upstream as upstream_module
from psc_idp.means.fi_tiers.providers import find_provider
from tests.means.fi_tiers.conftest import ALIAS, CALLBACK, configure, provider_entry
from tests.means.fi_tiers.establishment import Establishment, establishment
from tests.means.fi_tiers.test_fi_tiers_login import PROFESSIONAL, BrokeredLogin

CERTS = "/auth/realms/esante-wallet/protocol/openid-connect/certs"


def _published_jwks(app) -> dict:
    return app.test_client().get(CERTS).get_json()


def _other_jwks() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {"keys": [{**RSAAlgorithm.to_jwk(key, as_dict=True), "kid": "other", "use": "sig"}]}


@pytest.fixture(scope="module")
def by_key(app, tmp_path_factory) -> Iterator[Establishment]:
    """The establishment that registered psc-idp's published JWKS."""
    with establishment(tmp_path_factory.mktemp("pkjwt"), CALLBACK, _published_jwks(app)) as up:
        yield up


@pytest.fixture(scope="module")
def by_other_key(app, tmp_path_factory) -> Iterator[Establishment]:
    """An establishment that registered keys that are not psc-idp's."""
    with establishment(tmp_path_factory.mktemp("pkjwt-other"), CALLBACK, _other_jwks()) as up:
        yield up


def _configure(app, up: Establishment) -> None:
    entry = provider_entry(up, token_endpoint_auth_method="private_key_jwt")
    entry.pop("client_secret")
    configure(app, entry, paired_local_id="paula")


def test_the_establishment_accepts_our_signed_assertion(app, clients, by_key, cleanup):
    _configure(app, by_key)
    login = BrokeredLogin(app, clients.web, by_key)
    back = login.back_from_provider("paula")
    claims = jwt.decode(
        login.tokens(back)["id_token"], options={"verify_signature": False}, algorithms=["RS256"]
    )
    assert (claims["SubjectNameID"], claims["amr"]) == (PROFESSIONAL, ["pwd", "mfa"])


def test_keys_the_establishment_does_not_know_are_refused(app, clients, by_other_key, cleanup):
    _configure(app, by_other_key)
    back = BrokeredLogin(app, clients.web, by_other_key).back_from_provider("paula")
    assert back.status_code == 400
    page = html.unescape(back.get_data(as_text=True))
    assert "a refusé la connexion" in page and "invalid_client" in page


def test_the_assertion_has_rfc_7523_claims(app, by_key, cleanup):
    _configure(app, by_key)
    token_endpoint = f"{by_key.issuer}/token"
    with app.test_request_context():
        provider = find_provider(ALIAS)
        session = upstream_module._session(provider, CALLBACK)
        _, _, body = session.client_auth("private_key_jwt").prepare(
            "POST", token_endpoint, {}, "grant_type=authorization_code"
        )
        form = {k: v[0] for k, v in parse_qs(body).items()}
        assert form["client_assertion_type"] == (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
        header = jwt.get_unverified_header(form["client_assertion"])
        key = app.extensions["psc_signing_keys"].by_kid(header["kid"])
        assert key is not None and header["alg"] == "RS256"  # a key of our published JWKS
        claims = jwt.decode(
            form["client_assertion"],
            key.private_key.public_key(),
            algorithms=["RS256"],
            audience=token_endpoint,
        )
        again = upstream_module._private_key_jwt().claims
    assert claims["iss"] == claims["sub"] == provider.client_id
    assert len(claims["jti"]) >= 32
    assert 0 < claims["exp"] - time.time() <= 61  # short-lived
    assert again["exp"] >= claims["exp"]  # each request its own


def test_private_key_jwt_takes_no_secret(tmp_path):
    from psc_idp.realm.loader import RealmInvalid, read_realm_file

    path = tmp_path / "realm.yaml"
    path.write_text(
        "identity_providers:\n"
        "  - alias: FI_1\n    issuer: https://sso.example\n    client_id: psc\n"
        "    client_secret: s\n    token_endpoint_auth_method: private_key_jwt\n"
        "    accepted_amr: [{amr: [pwd, mfa], acr: eidas2}]\n"
        "  - alias: FI_2\n    issuer: https://sso.example\n    client_id: psc\n"
        "    accepted_amr: [{amr: [pwd, mfa], acr: eidas2}]\n"
    )
    with pytest.raises(RealmInvalid) as caught:
        read_realm_file(path)
    lines = "\n".join(caught.value.problems.lines())
    assert "identity_providers[0].client_secret (ligne 5) : inutile avec private_key_jwt" in lines
    assert (
        "identity_providers[1].client_secret (ligne 8) : obligatoire avec client_secret_basic"
        in lines
    )
