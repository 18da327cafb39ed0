"""A refresh answered before Flask (protocol/direct.py): the same answer as Flask's but for the
tokens' own identity, the same rotation (single use, a reuse ends the family), the same rows,
audit and metrics; anything that is not the plain case reaches Flask, and a refresh that loses
the rotation to a concurrent one is refused as Flask refuses it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from psc_idp.audit import events
from psc_idp.audit.trail import AuditEvent
from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.protocol import direct
from psc_idp.protocol.keycloak_errors import REFRESH_REUSE
from psc_idp.protocol.models import RefreshToken
from psc_idp.protocol.secrets import hash_secret
from psc_idp.timeutil import now
from tests.helpers import TOKEN, Browser, TestClients, basic, decode, login_and_get_tokens
from tests.http.direct_harness import FORM, Request, Workers, send, workers_of

#: What differs between two refreshes of one family a moment apart.
OWN = {"jti", "iat", "exp", "at_hash"}


@pytest.fixture
def clients(app: Flask) -> TestClients:
    return TestClients.ensure(app)


def _login(app: Flask, clients: TestClients) -> dict[str, Any]:
    return login_and_get_tokens(app, Browser(app), clients.web)


def _auth(clients: TestClients) -> dict[str, str]:
    return basic(clients.web.client_id, clients.web.secret)


def _refresh(auth: dict[str, str], token: str, extra: str = "", **headers: str) -> Request:
    body = f"grant_type=refresh_token&refresh_token={token}{extra}"
    return Request("POST", TOKEN, {"Content-Type": FORM, **auth, **headers}, body.encode())


def _sent(workers: Workers, request: Request, through_flask: bool = False) -> Any:
    """The answer, and whether Flask was reached for it."""
    before = len(workers.reached)
    answer = send(workers.flask_only if through_flask else workers.fast, request)
    return answer, len(workers.reached) > before


def _comparable(answer: tuple[str, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
    status, headers, body = answer
    payload = json.loads(body)
    tokens = {
        name: {k: v for k, v in decode(payload.pop(name)).items() if k not in OWN}
        for name in ("access_token", "id_token", "refresh_token")
    }
    kept = [(n, v) for n, v in headers if n != "Content-Length"]
    return status, kept, payload, tokens


def _stored(token: str) -> RefreshToken | None:
    return db.session.get(RefreshToken, hash_secret(token, "refresh"))


def _counted(client_id: str) -> float:
    sample = REGISTRY.get_sample_value(
        "psc_tokens_issued_total", {"grant_type": "refresh_token", "client": client_id}
    )
    return sample or 0.0


def test_the_refresh_is_flasks_and_rotates(app, monkeypatch, clients):
    first = _login(app, clients)
    workers = workers_of(app, monkeypatch)
    auth = _auth(clients)
    fast, reached = _sent(workers, _refresh(auth, first["refresh_token"], **{"User-Agent": "spa"}))
    assert not reached and fast[0] == "200 OK"
    second = json.loads(fast[2])
    # The next refresh of the same family through Flask: the same answer but for identities.
    through_flask, _ = _sent(
        workers, _refresh(auth, second["refresh_token"], **{"User-Agent": "spa"}), True
    )
    assert _comparable(fast) == _comparable(through_flask)
    assert decode(second["id_token"])["sid"] == decode(first["id_token"])["sid"]
    with app.app_context():
        old, new = _stored(first["refresh_token"]), _stored(second["refresh_token"])
        assert old is not None and old.used_at is not None  # rotated
        assert new is not None and new.grant_id == old.grant_id  # one family
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == events.TOKEN_REFRESHED)
            .order_by(AuditEvent.id.desc())
            .limit(2)
        ).all()
        # Newest first: Flask's, then the one answered before Flask, alike.
        assert [(e.client_id, e.ip, e.user_agent) for e in event] == [
            (clients.web.client_id, "127.0.0.1", "spa")
        ] * 2


def test_the_session_is_kept_alive(app, monkeypatch, clients):
    tokens = _login(app, clients)
    sid = decode(tokens["id_token"])["sid"]
    earlier = now() - timedelta(minutes=10)
    with app.app_context():
        db.session.execute(
            update(SsoSession).where(SsoSession.id == sid).values(last_seen_at=earlier)
        )
        db.session.commit()
    workers = workers_of(app, monkeypatch)
    answer, reached = _sent(workers, _refresh(_auth(clients), tokens["refresh_token"]))
    assert not reached and answer[0] == "200 OK"
    with app.app_context():
        assert db.session.get(SsoSession, sid).last_seen_at > earlier + timedelta(minutes=9)


def test_a_reused_token_reaches_flask_which_ends_the_family(app, monkeypatch, clients):
    first = _login(app, clients)
    workers = workers_of(app, monkeypatch)
    auth = _auth(clients)
    answer, _ = _sent(workers, _refresh(auth, first["refresh_token"]))
    second = json.loads(answer[2])
    reused, reached = _sent(workers, _refresh(auth, first["refresh_token"]))
    assert reached and reused[0].startswith("400")
    assert json.loads(reused[2])["error_description"] == REFRESH_REUSE
    ended, reached = _sent(workers, _refresh(auth, second["refresh_token"]))
    assert reached and json.loads(ended[2]) == {
        "error": "invalid_grant",
        "error_description": "Session not active",
    }


def test_issuance_is_counted_once(app, monkeypatch, clients):
    tokens = _login(app, clients)
    workers = workers_of(app, monkeypatch)
    before = _counted(clients.web.client_id)
    answer, reached = _sent(workers, _refresh(_auth(clients), tokens["refresh_token"]))
    assert not reached and answer[0] == "200 OK"
    assert _counted(clients.web.client_id) == before + 1


def test_a_refresh_that_loses_the_rotation_is_refused_and_writes_nothing(app, monkeypatch, clients):
    tokens = _login(app, clients)
    stolen = tokens["refresh_token"]
    refreshed = direct.refreshed

    def racing(client: Any, value: str) -> Any:
        answer = refreshed(client, value)  # checked, staged: a concurrent refresh wins now
        with db.engine.begin() as other:
            other.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == hash_secret(value, "refresh"))
                .values(used_at=now())
            )
        return answer

    monkeypatch.setattr(direct, "refreshed", racing)
    workers = workers_of(app, monkeypatch)
    with app.app_context():
        rows_before = db.session.query(RefreshToken).count()
    answer, reached = _sent(workers, _refresh(_auth(clients), stolen))
    assert not reached
    assert answer[0].startswith("400")
    assert json.loads(answer[2]) == {"error": "invalid_grant", "error_description": REFRESH_REUSE}
    with app.app_context():
        assert db.session.query(RefreshToken).count() == rows_before  # no new token kept


@pytest.mark.parametrize(
    "case",
    [
        "with a scope",
        "unknown token",
        "another client's token",
        "session ended",
        "wrong secret",
        "origin",
        "dpop proof",
    ],
)
def test_anything_else_reaches_flask(app, monkeypatch, clients, case):
    tokens = _login(app, clients)
    auth, token = _auth(clients), tokens["refresh_token"]
    if case == "session ended":
        with app.app_context():
            sid = decode(tokens["id_token"])["sid"]
            db.session.execute(
                update(SsoSession).where(SsoSession.id == sid).values(ended_at=now())
            )
            db.session.commit()
    requests = {
        "with a scope": _refresh(auth, token, "&scope=openid"),
        "unknown token": _refresh(auth, token[:-4] + "AAAA"),
        "another client's token": _refresh(
            basic(clients.post.client_id, clients.post.secret), token
        ),
        "session ended": _refresh(auth, token),
        "wrong secret": _refresh({"Authorization": auth["Authorization"][:-2] + "AA"}, token),
        "origin": _refresh(auth, token, Origin="http://localhost:3000"),
        "dpop proof": _refresh(auth, token, DPoP="not-a-proof"),
    }
    workers = workers_of(app, monkeypatch)
    answer, reached = _sent(workers, requests[case])
    assert reached
    if case in ("with a scope", "origin"):  # Flask refreshes them
        assert answer[0] == "200 OK" and "refresh_token" in json.loads(answer[2])
    else:
        assert json.loads(answer[2])["error"]
    with app.app_context():
        if case in ("unknown token", "another client's token", "session ended", "wrong secret"):
            stored = _stored(token)
            assert stored is not None and stored.used_at is None  # nothing spent
