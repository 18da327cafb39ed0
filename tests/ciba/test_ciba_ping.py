"""CIBA ping mode: the client is notified at its endpoint, then fetches the tokens."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from psc_idp.bus.hub import HUB
from psc_idp.extensions import db
from psc_idp.protocol.ciba.approval import CIBA_CHANNEL
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.ciba.ping import deliver_due, start_notifier
from psc_idp.protocol.clients import upsert_client
from tests.ciba.conftest import GRANT, Dpi
from tests.helpers import decode
from tests.means.ecps.helpers import activate_by_contact

MIDWIFE = "899700100318"


class Receiver:
    """The client's notification endpoint: records pings, can fail the first ones."""

    def __init__(self, failures: int = 0):
        self.pings: list[tuple[str, dict]] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.failures:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.pings.append((self.headers["Authorization"], body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/ciba/ping"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def _ping_client(app, url: str) -> Dpi:
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": "dpi-ping",
                "name": "DPI ping",
                "secret": secret,
                "grant_types": [GRANT],
                "backchannel_token_delivery_mode": "ping",
                "backchannel_client_notification_endpoint": url,
            }
        )
        db.session.commit()
    return Dpi(app, "dpi-ping", secret)


def _deliver(app) -> int:
    with app.app_context():
        return deliver_due()


def test_ping_then_tokens(app, receiver):
    dpi = _ping_client(app, receiver.url)
    phone = activate_by_contact(app, MIDWIFE, pin="1234")
    missing = dpi.ask(login_hint=MIDWIFE)
    assert missing.get_json()["error"] == "invalid_request"  # ping needs a notification token
    token = secrets.token_urlsafe(16)
    auth_req_id = dpi.ask(login_hint=MIDWIFE, client_notification_token=token).get_json()[
        "auth_req_id"
    ]
    assert _deliver(app) == 0  # nothing decided yet: no ping
    request = next(r for r in phone.pending() if r["kind"] == "ciba")
    phone.decide(request, "approve", pin="1234")
    assert _deliver(app) == 1
    assert receiver.pings == [(f"Bearer {token}", {"auth_req_id": auth_req_id})]
    assert _deliver(app) == 0  # delivered once
    tokens = dpi.poll(auth_req_id, early_ok=False)  # ping clients are not slowed down
    assert tokens.status_code == 200
    assert decode(tokens.get_json()["id_token"])["authMode"] == "MOBILE"


def test_ping_is_retried_with_backoff(app):
    receiver = Receiver(failures=1)
    try:
        dpi = _ping_client(app, receiver.url)
        phone = activate_by_contact(app, MIDWIFE)
        dpi.ask(login_hint=MIDWIFE, client_notification_token="t", binding_message="retry-55")
        request = next(r for r in phone.pending() if r["binding_message"] == "retry-55")
        phone.decide(request, "deny")
        assert _deliver(app) == 0 and receiver.pings == []
        with app.app_context():
            row = db.session.query(CibaRequest).filter_by(binding_message="retry-55").one()
            assert row.notify_attempts == 1 and row.notified_at is None
            row.next_notify_at = row.decided_at  # the backoff has passed
            db.session.commit()
        assert _deliver(app) == 1 and len(receiver.pings) == 1
    finally:
        receiver.close()


def test_expiry_is_pinged_too(app, receiver):
    dpi = _ping_client(app, receiver.url)
    activate_by_contact(app, MIDWIFE)
    auth_req_id = dpi.ask(
        login_hint=MIDWIFE, client_notification_token="x", binding_message="expiry-66"
    ).get_json()["auth_req_id"]
    with app.app_context():
        row = db.session.query(CibaRequest).filter_by(binding_message="expiry-66").one()
        row.expires_at = row.created_at
        db.session.commit()
    assert _deliver(app) == 1
    assert dpi.poll(auth_req_id).get_json()["error"] == "expired_token"


def test_the_notifier_pings_as_soon_as_the_phone_decides(app, receiver):
    """Its period is a minute here: only the wake-up of the decision can send the ping."""
    dpi = _ping_client(app, receiver.url)
    phone = activate_by_contact(app, MIDWIFE)
    dpi.ask(login_hint=MIDWIFE, client_notification_token="w", binding_message="77")
    stop = threading.Event()
    notifier = start_notifier(app, period=60, stop=stop)
    try:
        request = next(r for r in phone.pending() if r["binding_message"] == "77")
        phone.decide(request, "deny")
        deadline = time.monotonic() + 10
        while not receiver.pings and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.pings) == 1
    finally:
        stop.set()
        HUB.deliver(CIBA_CHANNEL, "stop")  # out of its wait
        notifier.join(timeout=10)
    assert not notifier.is_alive()
