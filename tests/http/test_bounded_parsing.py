"""Bounded parsing where tokens are read, whatever the way in (HTTP or command line): a deep
document is a ValueError for the caller to answer, never a RecursionError."""

from __future__ import annotations

import json

import pytest

from psc_idp import bounded_json
from psc_idp.jose_header import MAX_COMPACT_BYTES, check_compact, unverified_header
from tests.http.hostile import DEEP_JSON, DEEP_JWS, DEEP_PAYLOAD_JWS, b64url, unsigned_jws


def test_depth_ignores_brackets_inside_strings():
    assert bounded_json.depth('{"a": "[[[[[[", "b": [1, {"c": "\\"]]"}]}') == 3
    assert not bounded_json.too_deep(json.dumps({"s": "[" * 100}))
    assert bounded_json.too_deep(DEEP_JSON)
    assert not bounded_json.too_deep("[" * 32 + "]" * 32)
    assert bounded_json.too_deep("[" * 33 + "]" * 33)


def test_loads_refuses_deep_json_with_a_value_error():
    with pytest.raises(ValueError):
        bounded_json.loads(DEEP_JSON)
    assert bounded_json.loads('{"a": [1, 2]}') == {"a": [1, 2]}


@pytest.mark.parametrize(
    "token",
    [
        DEEP_JWS,
        DEEP_PAYLOAD_JWS,
        unsigned_jws({"alg": "RS256"}, {"pad": "x" * MAX_COMPACT_BYTES}),
        "a.b",
        "a.b.c.d",
        f"{b64url(b'{}')}.e30.sig+/",
        "éé.e30.AA",
        None,
    ],
    ids=["deep-header", "deep-payload", "huge", "two", "four", "bad-sig", "not-b64", "none"],
)
def test_check_compact_refuses(token):
    with pytest.raises(ValueError):
        check_compact(token)
    with pytest.raises(ValueError):
        unverified_header(token)


def test_unverified_header_reads_a_normal_token():
    assert unverified_header(unsigned_jws({"alg": "ES256", "kid": "k"}, {"sub": "x"})) == {
        "alg": "ES256",
        "kid": "k",
    }


@pytest.mark.parametrize("token", [DEEP_JWS, DEEP_PAYLOAD_JWS], ids=["header", "payload"])
def test_token_checks_answer_deep_tokens_without_recursing(app_context, token):
    from psc_idp.protocol.tokens import decode_access_token, decode_id_token_hint

    assert decode_access_token(token) is None
    with pytest.raises(ValueError):
        decode_id_token_hint(token)
