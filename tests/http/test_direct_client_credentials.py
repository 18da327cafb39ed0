"""A service account's token (client credentials) issued before Flask (protocol/direct.py):
the same answer as Flask's but for the token's own identity (jti, times), the same rows
(token, grant, audit with the caller's address and user agent), the same metrics; anything
unusual reaches Flask."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select

from psc_idp.audit import events
from psc_idp.audit.trail import AuditEvent
from psc_idp.extensions import db
from psc_idp.protocol.clients import upsert_client
from psc_idp.protocol.models import AccessToken, Grant
from tests.helpers import TOKEN, basic, decode
from tests.http.direct_harness import FORM, Request, send, workers_of

#: What differs between two tokens issued a moment apart.
OWN = {"jti", "iat", "exp"}


def _service(app: Flask, **extra: Any) -> dict[str, str]:
    client_id, secret = f"svc-direct-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "redirect_uris": [],
                "grant_types": ["client_credentials"],
                **extra,
            }
        )
        db.session.commit()
    return basic(client_id, secret)


def _ask(auth: dict[str, str], body: str = "grant_type=client_credentials", **headers: str):
    return Request("POST", TOKEN, {"Content-Type": FORM, **auth, **headers}, body.encode())


def _comparable(answer: tuple[str, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
    """The answer with the token's own identity left out (and the length it changes)."""
    status, headers, body = answer
    payload = json.loads(body)
    claims = {k: v for k, v in decode(payload.pop("access_token")).items() if k not in OWN}
    kept = [(n, v) for n, v in headers if n != "Content-Length"]
    return status, kept, payload, claims


def _issued(app: Flask, answer: tuple[str, list[tuple[str, str]], bytes]) -> dict[str, Any]:
    jti = decode(json.loads(answer[2])["access_token"])["jti"]
    with app.app_context():
        token = db.session.get(AccessToken, jti)
        grant = db.session.get(Grant, token.grant_id)
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == events.TOKEN_ISSUED)
            .order_by(AuditEvent.id.desc())
        ).first()
        return {
            "grant": (grant.client_id, grant.national_id, grant.scope),
            "audit": (event.client_id, event.ip, event.user_agent, event.detail["grant"]),
            "grant_id": grant.id,
        }


def _tokens_counted(client_id: str) -> float:
    sample = REGISTRY.get_sample_value(
        "psc_tokens_issued_total", {"grant_type": "client_credentials", "client": client_id}
    )
    return sample or 0.0


@pytest.mark.parametrize(
    "body", ["grant_type=client_credentials", "grant_type=client_credentials&scope=openid"]
)
def test_the_token_is_flasks(app, monkeypatch, body):
    auth = _service(app)
    workers = workers_of(app, monkeypatch)
    before = len(workers.reached)
    fast = send(workers.fast, _ask(auth, body, **{"User-Agent": "batch/1.0"}))
    assert len(workers.reached) == before  # answered before Flask
    through_flask = send(workers.flask_only, _ask(auth, body, **{"User-Agent": "batch/1.0"}))
    assert fast[0] == "200 OK"
    assert _comparable(fast) == _comparable(through_flask)
    fast_rows, flask_rows = _issued(app, fast), _issued(app, through_flask)
    assert fast_rows["grant_id"] != flask_rows["grant_id"]
    assert fast_rows["grant"] == flask_rows["grant"]
    # The audit row names the caller as Flask's does (the harness's peer is 127.0.0.1).
    assert fast_rows["audit"][:3] == flask_rows["audit"][:3]
    assert fast_rows["audit"][1:3] == ("127.0.0.1", "batch/1.0")


def test_issuance_is_counted_once(app, monkeypatch):
    auth = _service(app)
    workers = workers_of(app, monkeypatch)
    answer = send(workers.fast, _ask(auth))
    issued_to = decode(json.loads(answer[2])["access_token"])["azp"]
    before = _tokens_counted(issued_to)
    send(workers.fast, _ask(auth))
    assert _tokens_counted(issued_to) == before + 1


@pytest.mark.parametrize(
    "case",
    [
        "unknown scope",
        "two scopes",
        "empty scope",
        "a refresh token beside",
        "not registered for the grant",
        "bound to a certificate",
        "bound to a dpop key",
        "wrong secret",
        "secret in the body",
        "origin",
    ],
)
def test_anything_else_reaches_flask(app, monkeypatch, case):
    auth = _service(app)
    requests = {
        "unknown scope": _ask(auth, "grant_type=client_credentials&scope=nope"),
        "two scopes": _ask(auth, "grant_type=client_credentials&scope=openid+profile"),
        "empty scope": _ask(auth, "grant_type=client_credentials&scope="),
        "a refresh token beside": _ask(auth, "grant_type=client_credentials&refresh_token=x"),
        "not registered for the grant": _ask(
            _service(app, grant_types=["authorization_code"], redirect_uris=["http://localhost/cb"])
        ),
        "bound to a certificate": _ask(
            _service(app, tls_client_certificate_bound_access_tokens=True)
        ),
        "bound to a dpop key": _ask(_service(app, dpop_bound_access_tokens=True)),
        "wrong secret": _ask({"Authorization": auth["Authorization"][:-2] + "AA"}),
        "secret in the body": _ask({}, "grant_type=client_credentials&client_id=x&client_secret=y"),
        "origin": _ask(auth, Origin="http://localhost:3000"),
    }
    workers = workers_of(app, monkeypatch)
    before = len(workers.reached)
    answer = send(workers.fast, requests[case])
    assert len(workers.reached) == before + 1
    if case == "bound to a dpop key":  # no proof: refused, not issued as a bearer token
        assert json.loads(answer[2])["error"] == "invalid_dpop_proof"
    if answer[0] == "200 OK":  # Flask issued it (a certificate-bound client without one…)
        assert "access_token" in json.loads(answer[2])
    else:
        assert json.loads(answer[2])["error"]
