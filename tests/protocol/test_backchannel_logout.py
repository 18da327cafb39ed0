"""Back-channel logout (OIDC Back-Channel Logout 1.0): the end of an SSO session sends a logout
token to every client of the session, from the server, retried until the client takes it.

The tokens are checked with joserfc against the published JWKS (the server signs with PyJWT),
and once with the ``jose`` npm package, as a Node relying party would."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from psc_idp.bus.hub import HUB
from psc_idp.config import Settings, current_settings
from psc_idp.extensions import db
from psc_idp.protocol.logout import backchannel
from psc_idp.protocol.logout.models import LogoutDelivery
from psc_idp.timeutil import now
from tests.conftest import _fresh_postgres
from tests.helpers import (
    CERTS,
    LOGOUT,
    RegisteredClient,
    login_and_get_tokens,
    register_client,
    token_call,
)
from tests.logout_receiver import LogoutReceiver

EVENT = "http://schemas.openid.net/event/backchannel-logout"
NODE_FOLDER = Path(__file__).resolve().parents[1] / "e2e" / "node"


@pytest.fixture
def receiver():
    made = LogoutReceiver()
    yield made
    made.close()


@pytest.fixture(autouse=True)
def no_pending_deliveries(app):
    """Each test sees its own deliveries only (the database is the session's)."""
    with app.app_context():
        db.session.query(LogoutDelivery).delete()
        db.session.commit()


@pytest.fixture(scope="module")
def app(make_app, tmp_path_factory):
    """An app on a database of its own: on PostgreSQL the session's live servers share the
    session's database, and their delivery rounds would send these tests' tokens first."""
    base = os.environ.get("PSC_TEST_BASE_DATABASE_URL")
    if base:
        url = _fresh_postgres(base, "logout")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('logout') / 'psc-idp.sqlite3'}"
    return make_app(database_url=url)


def two_clients(app, receiver) -> tuple[RegisteredClient, RegisteredClient]:
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    second = register_client(
        app,
        "bcl-second",
        backchannel_logout_uri=receiver.url("/second/logout"),
        backchannel_logout_session_required=True,
        id_token_signed_response_alg="ES256",
    )
    return first, second


def log_out(browser, id_token: str):
    return browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://localhost:3000/",
        },
    )


def deliver(app) -> int:
    with app.app_context():
        return backchannel.deliver_due()


def deliveries(app) -> list[LogoutDelivery]:
    with app.app_context():
        rows = db.session.query(LogoutDelivery).order_by(LogoutDelivery.client_id).all()
        db.session.expunge_all()
        return rows


def verified(app, token: str, audience: str) -> tuple[dict, dict]:
    """Header and claims of a logout token, verified by joserfc against the JWKS."""
    keys = KeySet.import_key_set(app.test_client().get(CERTS).get_json())
    decoded = jose_jwt.decode(token, keys, algorithms=["RS256", "ES256", "PS256"])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings(app).issuer},
        aud={"essential": True, "value": audience},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(decoded.claims)
    return decoded.header, decoded.claims


def test_every_client_of_the_session_gets_a_logout_token(app, browser, clients, receiver):
    first, second = two_clients(app, receiver)
    tokens = login_and_get_tokens(app, browser, first)
    other = login_and_get_tokens(app, browser, second)  # the same SSO session
    login_and_get_tokens(app, browser, clients.web)  # no back-channel URI: nothing sent
    sid = tokens["session_state"]
    assert other["session_state"] == sid

    response = log_out(browser, tokens["id_token"])
    assert response.status_code == 302  # the browser did not wait for the clients
    assert receiver.posts == []
    assert deliver(app) == 2
    assert deliver(app) == 0  # delivered once

    by_path = {post.path: post for post in receiver.posts}
    assert set(by_path) == {"/first/logout", "/second/logout"}
    for path, client, id_token in (
        ("/first/logout", first, tokens["id_token"]),
        ("/second/logout", second, other["id_token"]),
    ):
        post = by_path[path]
        assert post.content_type == "application/x-www-form-urlencoded"
        header, claims = verified(app, post.form["logout_token"][0], client.client_id)
        id_claims = jose_jwt.decode(
            id_token, KeySet.import_key_set(app.test_client().get(CERTS).get_json())
        ).claims
        assert header["typ"] == "logout+jwt"
        assert header["alg"] == ("ES256" if client is second else "RS256")
        assert claims["sid"] == sid and claims["sub"] == id_claims["sub"]
        assert claims["events"] == {EVENT: {}}
        assert "nonce" not in claims
        assert claims["exp"] > time.time() >= claims["iat"] - 5
    assert len({post.form["logout_token"][0] for post in receiver.posts}) == 2
    # Every client's session ended with the SSO session: their refresh tokens are refused.
    for client, issued in ((first, tokens), (second, other)):
        refused = token_call(
            app, client, grant_type="refresh_token", refresh_token=issued["refresh_token"]
        )
        assert refused.get_json()["error"] == "invalid_grant"
    assert all(row.delivered_at is not None for row in deliveries(app))


def test_a_failed_delivery_is_retried_with_backoff_under_the_same_jti(app, browser):
    receiver = LogoutReceiver(failures=2, failure_status=500)
    try:
        first = register_client(
            app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout")
        )
        tokens = login_and_get_tokens(app, browser, first)
        log_out(browser, tokens["id_token"])
        jtis = []
        for attempt, wait in ((1, 1), (2, 2)):
            assert deliver(app) == 0
            (row,) = deliveries(app)
            assert row.attempts == attempt and row.delivered_at is None
            assert row.last_error == "HTTP 500"
            waited = (row.next_attempt_at - now()).total_seconds()
            assert wait - 1 < waited <= wait
            assert deliver(app) == 0  # not due yet
            jtis.append(row.jti)
            _make_due(app, row.id)
        assert deliver(app) == 1
        (row,) = deliveries(app)
        assert row.attempts == 3 and row.delivered_at and row.last_error is None
        (token,) = receiver.tokens()
        assert verified(app, token, "bcl-first")[1]["jti"] == jtis[0] == jtis[1] == row.jti
    finally:
        receiver.close()


def test_a_client_that_never_answers_is_given_up_after_the_attempts(app, browser):
    receiver = LogoutReceiver(failures=100, failure_status=302)  # a redirect is no answer
    try:
        first = register_client(
            app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout")
        )
        log_out(browser, login_and_get_tokens(app, browser, first)["id_token"])
        attempts = settings(app).logout_delivery_attempts
        for _ in range(attempts):
            assert deliver(app) == 0
            _make_due(app, deliveries(app)[0].id)
        (row,) = deliveries(app)
        assert row.attempts == attempts and row.next_attempt_at is None
        assert row.last_error == "HTTP 302"
        assert receiver.posts == [] and receiver.gets == []  # the redirect was not followed
        assert deliver(app) == 0
    finally:
        receiver.close()


def test_two_workers_racing_deliver_once(app, browser, receiver):
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    log_out(browser, login_and_get_tokens(app, browser, first)["id_token"])
    both_saw_it = threading.Barrier(2)
    outcomes: list[bool] = []

    def worker() -> None:
        with app.app_context():
            (seen,) = backchannel.due()
            both_saw_it.wait(timeout=10)  # each worker found the delivery due
            outcomes.append(backchannel.deliver(seen))
            db.session.remove()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, True]
    assert len(receiver.posts) == 1
    assert deliveries(app)[0].attempts == 1


def test_a_worker_that_died_mid_delivery_leaves_it_to_another_after_its_lease(
    app, browser, receiver
):
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    log_out(browser, login_and_get_tokens(app, browser, first)["id_token"])
    with app.app_context():
        (seen,) = backchannel.due()
        assert backchannel.claim(seen)  # ...and the worker dies before sending
    (row,) = deliveries(app)
    assert (row.next_attempt_at - now()) > timedelta(seconds=55)  # leased
    assert deliver(app) == 0 and receiver.posts == []
    _make_due(app, row.id)  # the lease has run out
    assert deliver(app) == 1 and len(receiver.posts) == 1
    assert deliveries(app)[0].attempts == 2


def test_the_worker_sends_as_soon_as_the_logout_commits(app, browser, receiver):
    """Its period is a minute here: only the logout's wake-up can send the token in time."""
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    tokens = login_and_get_tokens(app, browser, first)
    stop = threading.Event()
    worker = backchannel.start_deliveries(app, period=60, stop=stop)
    try:
        time.sleep(0.2)  # subscribed
        log_out(browser, tokens["id_token"])
        deadline = time.monotonic() + 10
        while not receiver.posts and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.posts) == 1
    finally:
        stop.set()
        HUB.deliver(backchannel.LOGOUT_CHANNEL, "stop")
        worker.join(timeout=10)


def test_a_confirmed_logout_notifies_too(app, browser, receiver):
    """No hint: the professional confirms, and the clients of the browser's session hear it."""
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    sid = login_and_get_tokens(app, browser, first)["session_state"]
    page = browser.http.get(LOGOUT).get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    done = browser.http.post(LOGOUT, data={"confirm": "yes", "csrf_token": csrf})
    assert done.status_code == 200
    assert deliver(app) == 1
    assert verified(app, receiver.tokens()[0], "bcl-first")[1]["sid"] == sid


def test_purge_keeps_pending_deliveries_and_removes_settled_ones(app, browser, receiver):
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    log_out(browser, login_and_get_tokens(app, browser, first)["id_token"])
    log_out(browser, login_and_get_tokens(app, browser, first)["id_token"])
    with app.app_context():
        delivered, pending = db.session.query(LogoutDelivery).order_by(LogoutDelivery.id).all()
        pending.next_attempt_at = now() + timedelta(hours=1)
        pending_id = pending.id
        db.session.commit()
    assert deliver(app) == 1
    with app.app_context():
        for row in db.session.query(LogoutDelivery):
            row.created_at = now() - timedelta(days=2)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["logout_deliveries"] == 1
    assert [row.id for row in deliveries(app)] == [pending_id]


@pytest.mark.e2e
def test_the_logout_token_passes_the_jose_npm_package(app, browser, receiver):
    first = register_client(app, "bcl-first", backchannel_logout_uri=receiver.url("/first/logout"))
    tokens = login_and_get_tokens(app, browser, first)
    log_out(browser, tokens["id_token"])
    assert deliver(app) == 1
    checked = subprocess.run(
        ["node", "verify-logout-token.mjs"],
        cwd=NODE_FOLDER,
        input=json.dumps(
            {
                "token": receiver.tokens()[0],
                "jwks": app.test_client().get(CERTS).get_json(),
                "issuer": settings(app).issuer,
                "audience": "bcl-first",
            }
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    claims = json.loads(checked.stdout)
    assert claims["sid"] == tokens["session_state"]
    assert claims["events"] == {EVENT: {}}


def settings(app) -> Settings:
    with app.app_context():
        return current_settings()


def _make_due(app, delivery_id: int) -> None:
    with app.app_context():
        row = db.session.get(LogoutDelivery, delivery_id)
        if row.next_attempt_at is not None:
            row.next_attempt_at = now() - timedelta(seconds=1)
        db.session.commit()
