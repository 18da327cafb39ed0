"""UserInfo and introspection answered before Flask in their plain case (protocol/direct.py):
for every request, the workers' app and the same app without the shortcut give the same
status, body and headers; the plain cases really are answered without Flask; everything else
reaches Flask with its body intact; the rate limit is counted once either way."""

from __future__ import annotations

import base64
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import Client

from psc_idp.extensions import db
from psc_idp.http.prepared import direct_routes, wrap
from psc_idp.protocol.models import AccessToken
from psc_idp.protocol.tokens import sign
from psc_idp.throttle import ThrottleWindow
from tests.dpop_client import Holder
from tests.helpers import (
    INTROSPECT,
    REVOKE,
    TOKEN,
    USERINFO,
    Browser,
    TestClients,
    basic,
    decode,
    login_and_get_tokens,
    token_call,
)
from tests.http.direct_harness import FORM, Request, Workers, send, workers_of


def _both(workers: Workers, request: Request) -> tuple[Any, Any, bool]:
    """Both answers, and whether the fast one was given without Flask."""
    before = len(workers.reached)
    fast = send(workers.fast, request)
    direct = len(workers.reached) == before
    through_flask = send(workers.flask_only, request)
    assert len(workers.reached) == before + 1 + (0 if direct else 1)
    return fast, through_flask, direct


# --- tokens ---------------------------------------------------------------------------------
@dataclass
class Tokens:
    access: str
    refresh: str
    revoked: str
    expired: str
    bound: str
    service: str
    service_openid: str
    signed: str
    #: Bound to a DPoP key (RFC 9449): introspected before Flask, left to Flask at UserInfo.
    dpop_bound: str


@pytest.fixture(scope="module")
def tokens(app: Flask) -> Tokens:
    clients = TestClients.ensure(app)
    browser = Browser(app)
    first = login_and_get_tokens(app, browser, clients.web)
    revoked = login_and_get_tokens(app, browser, clients.web)["access_token"]
    bound = login_and_get_tokens(app, browser, clients.web)["access_token"]
    auth = basic(clients.web.client_id, clients.web.secret)
    assert app.test_client().post(REVOKE, data={"token": revoked}, headers=auth).status_code == 200
    with app.app_context():
        # A token bound to a certificate, as tls_client_auth clients get them (RFC 8705).
        db.session.execute(
            update(AccessToken)
            .where(AccessToken.jti == decode(bound)["jti"])
            .values(cnf_x5t="bW9jay10aHVtYnByaW50")
        )
        db.session.commit()
        claims = decode(first["access_token"])
        expired = sign({**claims, "exp": int(time.time()) - 30}, "RS256")  # its row stays
    service = token_call(app, clients.web, grant_type="client_credentials").get_json()
    service_openid = token_call(
        app, clients.web, grant_type="client_credentials", scope="openid"
    ).get_json()
    signed = login_and_get_tokens(app, browser, clients.signed)["access_token"]
    dpop_bound = token_call_with_proof(app, clients.web, Holder().proof())
    return Tokens(
        first["access_token"],
        first["refresh_token"],
        revoked,
        expired,
        bound,
        service["access_token"],
        service_openid["access_token"],
        signed,
        dpop_bound,
    )


def token_call_with_proof(app: Flask, client: Any, proof: str) -> str:
    headers, _ = client.auth()
    response = app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={**headers, "DPoP": proof}
    )
    assert response.get_json()["token_type"] == "DPoP"
    return response.get_json()["access_token"]


def _bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def _userinfo(token: str, **headers: str) -> Request:
    return Request("GET", USERINFO, _bearer(token, **headers))


USERINFO_CASES: dict[str, tuple[Callable[[Tokens], Request], bool]] = {
    # name: (request, answered before Flask)
    "user token": (lambda t: _userinfo(t.access), True),
    "service account with openid": (lambda t: _userinfo(t.service_openid), True),
    "if-none-match is irrelevant": (
        lambda t: _userinfo(t.access, **{"If-None-Match": '"x"'}),
        True,
    ),
    "request id echoed": (lambda t: _userinfo(t.access, **{"X-Request-ID": "trace-7"}), True),
    "service account without openid": (lambda t: _userinfo(t.service), False),
    "revoked": (lambda t: _userinfo(t.revoked), False),
    "expired": (lambda t: _userinfo(t.expired), False),
    "bound to a certificate": (lambda t: _userinfo(t.bound), False),
    "bound to a dpop key": (lambda t: _userinfo(t.dpop_bound), False),
    "signed userinfo": (lambda t: _userinfo(t.signed), False),
    "not a token": (lambda t: _userinfo("abc.def.ghi"), False),
    "origin": (lambda t: _userinfo(t.access, Origin="http://localhost:3000"), False),
    "dpop": (lambda t: _userinfo(t.access, DPoP="eyJhbGciOiJFUzI1NiJ9.e30.c2ln"), False),
    "e-cps device": (lambda t: _userinfo(t.access, **{"ECPS-Device": "dev-1"}), False),
    "scheme in lower case": (
        lambda t: Request("GET", USERINFO, {"Authorization": f"bearer {t.access}"}),
        False,
    ),
    "query string": (lambda t: Request("GET", USERINFO, _bearer(t.access), query="a=1"), False),
    "token in a form body": (
        lambda t: Request(
            "POST", USERINFO, {"Content-Type": FORM}, f"access_token={t.access}".encode()
        ),
        False,
    ),
    "post with the header": (lambda t: Request("POST", USERINFO, _bearer(t.access)), False),
    "a body with a get": (
        lambda t: Request("GET", USERINFO, _bearer(t.access, **{"Content-Type": FORM}), b"a=1"),
        False,
    ),
    "no token": (lambda t: Request("GET", USERINFO), False),
}


@pytest.mark.parametrize("case", sorted(USERINFO_CASES))
def test_userinfo_answers_as_flask(app, tokens, monkeypatch, case):
    make, expected_direct = USERINFO_CASES[case]
    fast, through_flask, direct = _both(workers_of(app, monkeypatch), make(tokens))
    if case == "signed userinfo":  # a fresh JWT each time (jti, iat): its shape only
        assert fast[0] == through_flask[0] == "200 OK"
        assert [n for n, _ in fast[1]] == [n for n, _ in through_flask[1]]
    else:
        assert fast == through_flask
    assert direct is expected_direct
    if case == "request id echoed":
        assert (
            Client(wrap(app)).open(USERINFO, headers=make(tokens).headers).headers["X-Request-ID"]
            == "trace-7"
        )


def _introspect(body: str, auth: dict[str, str] | None = None, **headers: str) -> Request:
    return Request(
        "POST", INTROSPECT, {"Content-Type": FORM, **(auth or {}), **headers}, body.encode()
    )


def _web(app: Flask) -> dict[str, str]:
    clients = TestClients.ensure(app)
    return basic(clients.web.client_id, clients.web.secret)


def _deep_jws() -> str:
    nested = base64.urlsafe_b64encode(b"[" * 40 + b"]" * 40).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{nested}.c2lnbmF0dXJl"


INTROSPECTION_CASES: dict[str, tuple[Callable[[Tokens, dict[str, str]], Request], bool]] = {
    "access token": (lambda t, a: _introspect(f"token={t.access}", a), True),
    "with a hint": (
        lambda t, a: _introspect(f"token={t.access}&token_type_hint=access_token", a),
        True,
    ),
    "hint first": (
        lambda t, a: _introspect(f"token_type_hint=access_token&token={t.access}", a),
        True,
    ),
    "refresh token": (
        lambda t, a: _introspect(f"token={t.refresh}&token_type_hint=refresh_token", a),
        True,
    ),
    "service account": (lambda t, a: _introspect(f"token={t.service}", a), True),
    "revoked": (lambda t, a: _introspect(f"token={t.revoked}", a), True),
    "expired": (lambda t, a: _introspect(f"token={t.expired}", a), True),
    "unknown token": (lambda t, a: _introspect("token=abc.def.ghi", a), True),
    "bound to a certificate": (lambda t, a: _introspect(f"token={t.bound}", a), False),
    "bound to a dpop key": (lambda t, a: _introspect(f"token={t.dpop_bound}", a), True),
    "duplicate token": (lambda t, a: _introspect(f"token={t.access}&token={t.access}", a), False),
    "duplicate hint": (
        lambda t, a: _introspect(
            f"token={t.access}&token_type_hint=access_token&token_type_hint=access_token", a
        ),
        False,
    ),
    "extra parameter": (lambda t, a: _introspect(f"token={t.access}&scope=openid", a), False),
    "client id beside basic": (
        lambda t, a: _introspect(f"token={t.access}&client_id=test-web", a),
        False,
    ),
    "unknown hint": (
        lambda t, a: _introspect(f"token={t.access}&token_type_hint=id_token", a),
        False,
    ),
    "no token": (lambda t, a: _introspect("token_type_hint=access_token", a), False),
    "empty token": (lambda t, a: _introspect("token=", a), False),
    "encoded value": (lambda t, a: _introspect("token=abc%2Edef", a), False),
    "nul": (lambda t, a: _introspect("token=abc%00def", a), False),
    "nested jws": (lambda t, a: _introspect(f"token={_deep_jws()}", a), False),
    "wrong secret": (
        lambda t, a: _introspect(f"token={t.access}", basic("test-web", "wrong")),
        False,
    ),
    "unknown client": (
        lambda t, a: _introspect(f"token={t.access}", basic("nobody", "secret")),
        False,
    ),
    "public client": (
        lambda t, a: _introspect(f"token={t.access}", basic("test-public", "secret")),
        False,
    ),
    "no client authentication": (lambda t, a: _introspect(f"token={t.access}"), False),
    "charset parameter": (
        lambda t, a: _introspect(
            f"token={t.access}", a, **{"Content-Type": f"{FORM}; charset=utf-8"}
        ),
        False,
    ),
    "json": (
        lambda t, a: Request(
            "POST", INTROSPECT, {"Content-Type": "application/json", **a}, b'{"token":"x"}'
        ),
        False,
    ),
    "origin": (
        lambda t, a: _introspect(f"token={t.access}", a, Origin="http://localhost:3000"),
        False,
    ),
    "query string": (
        lambda t, a: Request(
            "POST", INTROSPECT, {"Content-Type": FORM, **a}, f"token={t.access}".encode(), "a=1"
        ),
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(INTROSPECTION_CASES))
def test_introspection_answers_as_flask(app, tokens, monkeypatch, case):
    make, expected_direct = INTROSPECTION_CASES[case]
    fast, through_flask, direct = _both(workers_of(app, monkeypatch), make(tokens, _web(app)))
    assert fast == through_flask
    assert direct is expected_direct


def test_the_plain_answers_are_the_real_ones(app, tokens, monkeypatch):
    """The claims and payloads compared above are the successful ones, not two equal errors."""
    workers = workers_of(app, monkeypatch)
    status, _, body = send(workers.fast, _userinfo(tokens.access))
    assert status == "200 OK" and b'"SubjectRefPro"' in body
    status, _, body = send(workers.fast, _introspect(f"token={tokens.access}", _web(app)))
    assert status == "200 OK" and body.endswith(b'"active": true}')
    status, _, body = send(workers.fast, _introspect(f"token={tokens.revoked}", _web(app)))
    assert (status, body) == ("200 OK", b'{"active": false}')


@pytest.mark.parametrize("path", ["userinfo", "introspection"])
def test_https_behind_a_proxy_on_this_host(app, tokens, monkeypatch, path):
    settings = app.extensions["psc_settings"]
    monkeypatch.setattr(settings, "base_url", "https://idp.example")  # HSTS over https
    forwarded = {"X-Forwarded-Proto": "https"}  # from 127.0.0.1: believed
    if path == "userinfo":
        request = _userinfo(tokens.access, **forwarded)
    else:
        request = _introspect(f"token={tokens.access}", _web(app), **forwarded)
    workers = workers_of(app, monkeypatch)
    fast, through_flask, direct = _both(workers, request)
    assert direct and fast == through_flask
    assert ("Strict-Transport-Security", f"max-age={settings.hsts_max_age}") in fast[1]


def test_the_routes_are_the_views_paths(app):
    assert sorted(direct_routes(app)) == [
        ("GET", USERINFO),
        ("POST", TOKEN),
        ("POST", INTROSPECT),
    ]


def test_direct_answers_are_observed_as_flasks(app, tokens, caplog):
    from prometheus_client import REGISTRY

    def count(endpoint: str, method: str) -> float:
        sample = REGISTRY.get_sample_value(
            "psc_http_request_duration_seconds_count", {"endpoint": endpoint, "method": method}
        )
        return sample or 0.0

    fast = Client(wrap(app))
    before = count("protocol.introspect", "POST"), count("protocol.userinfo", "GET")
    with caplog.at_level(logging.INFO, logger="psc_idp.access"):
        request = _introspect(f"token={tokens.access}", _web(app))
        fast.open(
            request.path,
            method="POST",
            headers=request.headers,
            data=request.body,
            environ_base={"REMOTE_ADDR": "10.9.8.7"},
        )
        fast.open(USERINFO, headers=_bearer(tokens.access))
    assert count("protocol.introspect", "POST") == before[0] + 1
    assert count("protocol.userinfo", "GET") == before[1] + 1
    lines = [r for r in caplog.records if r.name == "psc_idp.access"]
    introspected, userinfo = lines[-2:]
    assert (introspected.endpoint, introspected.status) == ("protocol.introspect", 200)
    assert (introspected.client_id, introspected.remote_addr) == ("test-web", "10.9.8.7")
    assert (userinfo.endpoint, userinfo.client_id) == ("protocol.userinfo", None)


# --- the rate limit and the lockout ----------------------------------------------------------
def _own_client(app: Flask) -> tuple[str, str]:
    """A client of its own, so that no other test's count or failure is in its windows."""
    from psc_idp.protocol.clients import upsert_client

    client_id, secret = f"test-direct-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "redirect_uris": [],
                "grant_types": ["client_credentials"],
            }
        )
        db.session.commit()
    return client_id, secret


def _counted(app: Flask, client_id: str) -> int:
    with app.app_context():
        key = app.extensions["psc_app_secret"].keyed_hash(
            f"limit\0introspection\0{client_id}", "throttle"
        )
        counts = db.session.scalars(select(ThrottleWindow.count).where(ThrottleWindow.key == key))
        return sum(counts)


def test_the_rate_limit_is_counted_once_per_request(make_app, tokens, monkeypatch):
    app = make_app(rate_limit_introspection="4/h")  # exact below 100 (one statement a hit)
    client_id, secret = _own_client(app)
    auth = basic(client_id, secret)
    workers = workers_of(app, monkeypatch)
    answers = []
    for body in (f"token={tokens.access}", f"token={tokens.bound}", "token=abc.def.ghi"):
        before = len(workers.reached)
        answers.append(send(workers.fast, _introspect(body, auth)))
        answers[-1] += (len(workers.reached) - before,)
    # Direct, then counted before Flask and handed to it (a bound token), then direct again.
    assert [a[0] for a in answers] == ["200 OK"] * 3
    assert [a[3] for a in answers] == [0, 1, 0]
    assert _counted(app, client_id) == 3
    fourth = send(workers.flask_only, _introspect(f"token={tokens.access}", auth))
    assert fourth[0] == "200 OK" and _counted(app, client_id) == 4
    # Past the limit: counted once before Flask, refused by Flask as Flask refuses it.
    refused = send(workers.fast, _introspect(f"token={tokens.access}", auth))
    assert _counted(app, client_id) == 5
    by_flask = send(workers.flask_only, _introspect(f"token={tokens.access}", auth))
    assert _counted(app, client_id) == 6
    assert refused[0] == "429 TOO MANY REQUESTS"
    assert b"too_many_requests" in refused[2]
    assert _without_retry_after(refused) == _without_retry_after(by_flask)


def _without_retry_after(answer: tuple[str, list[tuple[str, str]], bytes]) -> Any:
    """The answer with ``Retry-After``'s value blanked (the two may be a second apart)."""
    status, headers, body = answer
    assert any(name == "Retry-After" and value.isdigit() for name, value in headers)
    return status, [(n, "-" if n == "Retry-After" else v) for n, v in headers], body


def test_a_client_with_failures_counted_goes_to_flask(make_app, tokens, monkeypatch):
    from psc_idp import lockout

    app = make_app(lockout_enabled=True)
    client_id, secret = _own_client(app)
    workers = workers_of(app, monkeypatch)
    good = _introspect(f"token={tokens.access}", basic(client_id, secret))
    wrong = _introspect(f"token={tokens.access}", basic(client_id, "wrong"))
    assert send(workers.fast, wrong)[0] == "401 UNAUTHORIZED"  # Flask counts the failure
    with app.app_context():
        assert lockout.state(lockout.CLIENT, client_id).failures == 1
    reached = len(workers.reached)
    assert send(workers.fast, good)[0] == "200 OK"
    assert len(workers.reached) == reached + 1  # Flask clears the count
    with app.app_context():
        assert lockout.state(lockout.CLIENT, client_id) is None
    assert send(workers.fast, good)[0] == "200 OK"
    assert len(workers.reached) == reached + 1  # nothing to clear: before Flask


def test_a_database_failure_is_left_to_flask(app, tokens, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from psc_idp.protocol import direct

    def broken(*args: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    workers = workers_of(app, monkeypatch)
    monkeypatch.setattr(direct, "userinfo_for", broken)
    reached = len(workers.reached)
    status, _, body = send(workers.fast, _userinfo(tokens.access))
    assert status == "200 OK" and b'"SubjectRefPro"' in body  # Flask's own, unbroken path
    assert len(workers.reached) == reached + 1


def test_postgresql_reads_run_outside_a_transaction_and_the_connection_is_reset(
    app, tokens, monkeypatch
):
    """UserInfo and introspection only read: on PostgreSQL no ``BEGIN`` (the driver's
    connection stays idle, not in a transaction, after their reads) and no ``ROLLBACK``;
    the connection goes back to the pool transactional again, for the writes of others."""
    from psc_idp.protocol import direct

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's driver opens no transaction for a read")
    seen: list[tuple[str, Any, Any]] = []

    def watching(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any) -> Any:
            result = real(*args)
            driver = db.session.connection().connection.dbapi_connection
            seen.append((name, driver, driver.info.transaction_status.name))
            return result

        return watched

    monkeypatch.setattr(direct, "userinfo_for", watching("userinfo", direct.userinfo_for))
    monkeypatch.setattr(
        direct, "introspection_result", watching("introspection", direct.introspection_result)
    )
    monkeypatch.setattr(direct, "service_token", watching("token", direct.service_token))
    workers = workers_of(app, monkeypatch)
    assert send(workers.fast, _userinfo(tokens.access))[0] == "200 OK"
    assert send(workers.fast, _introspect(f"token={tokens.access}", _web(app)))[0] == "200 OK"
    service = _introspect("grant_type=client_credentials", _web(app))
    assert send(workers.fast, Request("POST", TOKEN, service.headers, service.body))[0] == "200 OK"
    assert [(name, status) for name, _, status in seen] == [
        ("userinfo", "IDLE"),
        ("introspection", "IDLE"),
        ("token", "INTRANS"),  # a token's rows are still written in one transaction
    ]
    assert not any(driver.autocommit for _, driver, _ in seen)  # reset in the pool
