"""Which registered key verifies a client assertion (``select_key``), and the refusals that
come before any key is tried."""

from __future__ import annotations

import json

import jwt
import pytest
from authlib.oauth2.rfc6749.errors import InvalidClientError
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from psc_idp.protocol.client_auth.private_key_jwt import ClientKey, _check_dates, select_key

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
P384_KEY = ec.generate_private_key(ec.SECP384R1())


def client_key(private, **extra) -> ClientKey:
    algorithm = RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else ECAlgorithm
    data = {**json.loads(algorithm.to_jwk(private.public_key())), **extra}
    return ClientKey(data, jwt.PyJWK(data))


def test_the_only_key_serves_an_assertion_without_kid():
    only = client_key(RSA_KEY, kid="a")
    assert select_key([only], {"alg": "RS256"}) is only.key


def test_without_kid_several_keys_are_ambiguous():
    with pytest.raises(InvalidClientError):
        select_key([client_key(RSA_KEY, kid="a"), client_key(EC_KEY, kid="b")], {"alg": "RS256"})


def test_kid_picks_its_key():
    keys = [client_key(RSA_KEY, kid="rsa"), client_key(EC_KEY, kid="ec")]
    assert select_key(keys, {"alg": "ES256", "kid": "ec"}) is keys[1].key
    assert select_key(keys, {"alg": "PS256", "kid": "rsa"}) is keys[0].key


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_an_rsa_key_registered_without_alg_verifies_both_rsa_algorithms(alg):
    # The assertion is checked with the key itself (``.key``): PyJWT's PyJWK of an RSA key
    # registered without ``alg`` would verify RS256 only.
    key = select_key([client_key(RSA_KEY, kid="rsa")], {"alg": alg, "kid": "rsa"})
    assertion = jwt.encode({"sub": "c"}, RSA_KEY, algorithm=alg)
    assert jwt.decode(assertion, key.key, algorithms=[alg]) == {"sub": "c"}


@pytest.mark.parametrize(
    "key, header",
    [
        (client_key(RSA_KEY, kid="k"), {"alg": "ES256", "kid": "k"}),  # RSA key, EC algorithm
        (client_key(EC_KEY, kid="k"), {"alg": "RS256", "kid": "k"}),  # EC key, RSA algorithm
        (client_key(P384_KEY, kid="k"), {"alg": "ES256", "kid": "k"}),  # wrong curve
        (client_key(RSA_KEY, kid="k", alg="PS256"), {"alg": "RS256", "kid": "k"}),  # key's alg
        (client_key(RSA_KEY, kid="k", use="enc"), {"alg": "RS256", "kid": "k"}),  # not for sig
        (client_key(RSA_KEY, kid="k"), {"alg": "RS256", "kid": "other"}),  # unknown kid
    ],
    ids=["rsa-for-es256", "ec-for-rs256", "p384-for-es256", "key-alg", "use-enc", "unknown-kid"],
)
def test_a_key_that_does_not_suit_the_header_is_refused(key, header):
    with pytest.raises(InvalidClientError):
        select_key([key], header)


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["soon", True, [1], {"t": 1}])
def test_dates_must_be_numbers(claim, value):
    with pytest.raises(InvalidClientError):
        _check_dates({claim: value})
    _check_dates({claim: 1_700_000_000})  # a number passes
