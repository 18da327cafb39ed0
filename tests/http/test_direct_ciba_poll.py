"""A CIBA poll still waiting, answered before Flask (protocol/direct.py): the same status, body
and headers as Flask's answer to the same poll of another request in the same state, the poll
recorded once either way; anything decided, foreign or unusual reaches Flask."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select, update

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsPush
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.clients import upsert_client
from tests.dpop_client import Holder
from tests.helpers import TOKEN, TestClients, basic
from tests.http.direct_harness import FORM, Request, Workers, send, workers_of
from tests.means.ecps.helpers import activate_by_contact

CIBA_AUTH = "/auth/realms/esante-wallet/protocol/openid-connect/ext/ciba/auth"
GRANT = "urn:openid:params:grant-type:ciba"
#: A professional of the demo realm with an e-CPS activated for these tests.
NURSE = "899700100490"


@dataclass
class Dpi:
    client_id: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return basic(self.client_id, self.secret)


def _dpi(app: Flask) -> Dpi:
    dpi = Dpi(f"dpi-direct-{secrets.token_hex(4)}", secrets.token_urlsafe(32))
    with app.app_context():
        upsert_client({"client_id": dpi.client_id, "secret": dpi.secret, "grant_types": [GRANT]})
        db.session.commit()
    return dpi


@pytest.fixture(scope="module", autouse=True)
def nurse_phone(app: Flask) -> None:
    """The nurse's e-CPS, which every request of this module is sent to."""
    activate_by_contact(app, NURSE)


@pytest.fixture(scope="module")
def dpi(app: Flask) -> Dpi:
    return _dpi(app)


@pytest.fixture(autouse=True)
def no_push_left_waiting(app: Flask) -> Iterator[None]:
    """A professional may have only a few pushes waiting (the anti-fatigue cap): each test
    starts and ends with none of the nurse's."""
    _cancel_waiting(app)
    yield
    _cancel_waiting(app)


def _cancel_waiting(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            update(EcpsPush)
            .where(EcpsPush.national_id == NURSE, EcpsPush.status == "pending")
            .values(status="cancelled")
        )
        db.session.commit()


def _ask(app: Flask, dpi: Dpi) -> str:
    asked = app.test_client().post(
        # A message of its own: a generated one (two digits) could be another test's.
        CIBA_AUTH,
        data={"scope": "openid", "login_hint": NURSE, "binding_message": "direct"},
        headers=dpi.auth,
    )
    assert asked.status_code == 200, asked.get_json()
    return asked.get_json()["auth_req_id"]


def _poll(dpi: Dpi, auth_req_id: str, body: str = "", **headers: str) -> Request:
    form = body or f"grant_type={GRANT}&auth_req_id={auth_req_id}"
    return Request("POST", TOKEN, {"Content-Type": FORM, **dpi.auth, **headers}, form.encode())


def _fast_and_flask(
    workers: Workers, fast: Request, through_flask: Request
) -> tuple[tuple, tuple, bool]:
    """Each request to its app (two requests in the same state), and whether the fast one was
    answered without Flask."""
    before = len(workers.reached)
    answer = send(workers.fast, fast)
    direct = len(workers.reached) == before
    return answer, send(workers.flask_only, through_flask), direct


def _cancel_push_of(app: Flask, auth_req_id: str) -> None:
    """The professional refuses on the phone (the push's state as the phone leaves it)."""
    with app.app_context():
        request = _by_auth_req_id(auth_req_id)
        db.session.execute(
            update(EcpsPush)
            .where(EcpsPush.subject_ref == request.id)
            .values(status="denied", decided_at=request.created_at)
        )
        db.session.commit()


def _by_auth_req_id(auth_req_id: str) -> CibaRequest:
    from psc_idp.protocol.secrets import hash_secret

    return db.session.scalars(
        select(CibaRequest).where(CibaRequest.auth_req_hash == hash_secret(auth_req_id, "ciba"))
    ).one()


def _polls(app: Flask, auth_req_id: str) -> tuple[object, int]:
    with app.app_context():
        request = _by_auth_req_id(auth_req_id)
        return request.last_poll_at, request.interval


def test_a_pending_poll_answers_as_flask(app, dpi, monkeypatch):
    workers = workers_of(app, monkeypatch)
    first, second = _ask(app, dpi), _ask(app, dpi)
    fast, through_flask, direct = _fast_and_flask(workers, _poll(dpi, first), _poll(dpi, second))
    assert direct
    assert fast == through_flask
    assert fast[0] == "400 BAD REQUEST" and b'"authorization_pending"' in fast[2]
    # The poll is recorded as Flask records it: the next one, too soon, slows down.
    assert _polls(app, first)[0] is not None
    fast, through_flask, direct = _fast_and_flask(workers, _poll(dpi, first), _poll(dpi, second))
    assert direct and fast == through_flask
    assert b'"slow_down"' in fast[2]
    assert _polls(app, first)[1] == _polls(app, second)[1] == 10  # 5 s more, once each


def test_a_decided_request_is_answered_by_flask_once_polled(app, dpi, monkeypatch):
    """The refusal settles before Flask; Flask answers it and records the poll itself (a
    poll recorded twice would read as too soon: slow_down instead of access_denied)."""
    workers = workers_of(app, monkeypatch)
    first, second = _ask(app, dpi), _ask(app, dpi)
    _cancel_push_of(app, first)
    _cancel_push_of(app, second)
    fast, through_flask, direct = _fast_and_flask(workers, _poll(dpi, first), _poll(dpi, second))
    assert not direct
    assert fast == through_flask
    assert b'"access_denied"' in fast[2]


@pytest.mark.parametrize(
    "case",
    [
        "unknown request",
        "another client's request",
        "client not registered for ciba",
        "wrong secret",
        "extra parameter",
        "duplicate parameter",
        "encoded value",
        "client_credentials",
        "origin",
    ],
)
def test_anything_else_reaches_flask(app, dpi, monkeypatch, case):
    workers = workers_of(app, monkeypatch)
    first, second = _ask(app, dpi), _ask(app, dpi)
    web = TestClients.ensure(app).web
    other = _dpi(app)
    pairs = {
        "unknown request": (_poll(dpi, "nope"), _poll(dpi, "nope")),
        "another client's request": (_poll(other, first), _poll(other, second)),
        "client not registered for ciba": tuple(
            Request(
                "POST",
                TOKEN,
                {"Content-Type": FORM, **basic(web.client_id, web.secret)},
                f"grant_type={GRANT}&auth_req_id={r}".encode(),
            )
            for r in (first, second)
        ),
        "wrong secret": tuple(_poll(Dpi(dpi.client_id, "wrong"), r) for r in (first, second)),
        "extra parameter": tuple(
            _poll(dpi, r, f"grant_type={GRANT}&auth_req_id={r}&scope=openid")
            for r in (first, second)
        ),
        "duplicate parameter": tuple(
            _poll(dpi, r, f"grant_type={GRANT}&auth_req_id={r}&auth_req_id={r}")
            for r in (first, second)
        ),
        "encoded value": tuple(
            _poll(dpi, r, f"grant_type={GRANT}&auth_req_id=%{ord(r[0]):02X}{r[1:]}")
            for r in (first, second)
        ),
        "client_credentials": tuple(
            _poll(dpi, r, "grant_type=client_credentials") for r in (first, second)
        ),
        "origin": tuple(_poll(dpi, r, Origin="http://localhost:3000") for r in (first, second)),
    }
    fast, through_flask, direct = _fast_and_flask(workers, *pairs[case])
    assert not direct
    assert fast == through_flask
    assert fast[0].startswith(("400", "401"))


def test_a_dpop_clients_poll_reaches_flask(app, monkeypatch):
    """A client registered with ``dpop_bound_access_tokens`` polling without a proof is
    refused by Flask (``invalid_dpop_proof``), never told ``authorization_pending``; a poll with
    a proof is Flask's too (the ``DPoP`` header)."""
    workers = workers_of(app, monkeypatch)
    dpi = Dpi(f"dpi-dpop-{secrets.token_hex(4)}", secrets.token_urlsafe(32))
    with app.app_context():
        upsert_client(
            {
                "client_id": dpi.client_id,
                "secret": dpi.secret,
                "grant_types": [GRANT],
                "dpop_bound_access_tokens": True,
            }
        )
        db.session.commit()
    first, second = _ask(app, dpi), _ask(app, dpi)
    fast, through_flask, direct = _fast_and_flask(workers, _poll(dpi, first), _poll(dpi, second))
    assert not direct and fast == through_flask
    assert fast[0] == "400 BAD REQUEST" and b'"invalid_dpop_proof"' in fast[2]
    before = len(workers.reached)
    with_proof = send(workers.fast, _poll(dpi, first, DPoP=Holder().proof()))
    assert len(workers.reached) == before + 1
    assert b'"authorization_pending"' in with_proof[2]
