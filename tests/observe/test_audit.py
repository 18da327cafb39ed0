"""The audit trail: logins, token issuance, refresh, revocation and logout each leave one row
(who, client, means, acr, outcome, IP, user agent); ``psc-idp audit`` filters and exports them;
the account page shows the professional their own events only."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from psc_idp.audit import AuditEvent, record
from psc_idp.audit.query import parse_since
from psc_idp.directory.lookup import find_practitioner
from psc_idp.extensions import db
from psc_idp.login.flow import accept_login
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome, TransactionError
from psc_idp.timeutil import epoch, now
from tests.helpers import DOCTOR, LOGOUT, REVOKE, Browser, login_and_get_tokens, token_call

AGENT = "Mozilla/5.0 (audit test)"
OTHER = "899700366240"


def _events_since(app, first_id: int) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.id > first_id).order_by(AuditEvent.id)
        events = list(db.session.scalars(query))
        db.session.expunge_all()
        return events


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) or 0


def test_a_login_and_its_tokens_leave_a_trail(app, clients):
    browser = Browser(app)
    browser.http.environ_base["HTTP_USER_AGENT"] = AGENT
    start = _last_id(app)
    tokens = login_and_get_tokens(app, browser, clients.web, acr_values="eidas1")
    refreshed = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    headers, form = clients.web.auth()
    revoked = app.test_client().post(
        REVOKE, data={**form, "token": refreshed.get_json()["refresh_token"]}, headers=headers
    )
    assert revoked.status_code == 200
    logout = browser.http.get(LOGOUT, query_string={"id_token_hint": tokens["id_token"]})
    assert logout.status_code == 200

    events = _events_since(app, start)
    names = [e.event for e in events]
    assert names == [
        "login_succeeded",
        "token_issued",
        "token_refreshed",
        "token_revoked",
        "logout",
    ]
    login, issued, renewed, revocation, logged_out = events
    web = clients.web.client_id
    for event in events:
        assert event.national_id == DOCTOR
        assert event.client_id == web
        assert event.outcome == "success"
        assert event.means == "MOBILE" and event.acr == "eidas1"
        assert event.ip == "127.0.0.1"
    assert login.user_agent == AGENT and logged_out.user_agent == AGENT
    assert issued.detail["grant_type"] == "authorization_code"
    assert renewed.detail["grant"] == issued.detail["grant"]  # the same family
    assert revocation.detail["kind"] == "refresh_token"


def test_client_credentials_issuance_names_the_client_only(app, clients):
    start = _last_id(app)
    assert token_call(app, clients.web, grant_type="client_credentials").status_code == 200
    (event,) = _events_since(app, start)
    assert (event.event, event.national_id, event.client_id) == (
        "token_issued",
        None,
        clients.web.client_id,
    )
    assert event.detail["grant_type"] == "client_credentials"


def test_a_failed_attempt_is_audited(app, clients):
    """The picker refuses a means below the requested level: the attempt is counted and kept."""
    browser = Browser(app)
    start = _last_id(app)
    response = browser.authorize(clients.web.client_id, acr_values="eidas3")
    refused = browser.pick_identity(response.headers["Location"], DOCTOR, "MOBILE")
    assert refused.status_code == 400
    (event,) = _events_since(app, start)
    assert (event.event, event.outcome, event.means) == ("login_failed", "failure", "dev")
    assert event.client_id == clients.web.client_id
    assert event.detail["failures"] == 1 and "eidas1" in event.detail["message"]


def _cli(app, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(args=["audit", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_the_audit_command_filters_and_exports(app):
    with app.app_context():
        record("login_succeeded", OTHER, client_id="audit-cli-a", means="CARD", outcome="success")
        record("token_issued", OTHER, client_id="audit-cli-b", outcome="success")
        old = AuditEvent(
            event="login_failed",
            national_id=OTHER,
            client_id="audit-cli-a",
            outcome="failure",
            detail={},
            created_at=now() - timedelta(hours=3),
        )
        db.session.add(old)
        db.session.commit()
    lines = [json.loads(line) for line in _cli(app, "--national-id", OTHER, "--json")]
    assert [line["event"] for line in lines][-3:] == [
        "login_succeeded",
        "token_issued",
        "login_failed",
    ]
    assert lines[-3]["means"] == "CARD" and lines[-3]["time"].endswith("Z")
    by_client = [json.loads(line) for line in _cli(app, "--client", "audit-cli-a", "--json")]
    assert {line["client_id"] for line in by_client} == {"audit-cli-a"}
    assert len(by_client) == 2
    recent = [
        json.loads(line)
        for line in _cli(app, "--client", "audit-cli-a", "--since", "10m", "--json")
    ]
    assert [line["event"] for line in recent] == ["login_succeeded"]
    future = (now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert _cli(app, "--client", "audit-cli-a", "--since", future) == []
    text = _cli(app, "--client", "audit-cli-b")
    assert len(text) == 1 and "token_issued" in text[0] and OTHER in text[0]
    bad = app.test_cli_runner().invoke(args=["audit", "--since", "yesterday"])
    assert bad.exit_code == 2 and "durée" in bad.output


def test_since_accepts_durations_and_paris_times():
    moment = now()
    assert parse_since("10m", moment) == moment - timedelta(minutes=10)
    assert parse_since("2h", moment) == moment - timedelta(hours=2)
    assert parse_since("7d", moment) == moment - timedelta(days=7)
    winter = parse_since("2026-12-01T08:00")  # Paris, UTC+1 in December
    assert (winter.hour, winter.utcoffset()) == (7, timedelta(0))
    assert parse_since("2026-07-01T08:00+00:00").hour == 8


def test_the_account_page_shows_own_events_only(app, clients):
    with app.app_context():
        record("login_succeeded", OTHER, client_id="someone-elses-service", outcome="success")
        db.session.commit()
    login_and_get_tokens(app, Browser(app), clients.web)  # the doctor's own login and token
    browser = Browser(app)
    start = browser.http.get("/wallet/account")
    done = browser.pick_identity(start.headers["Location"], DOCTOR, "CARD")
    assert done.headers["Location"] == "/wallet/account"
    page = browser.http.get("/wallet/account").get_data(as_text=True)
    assert "Connexion réussie" in page
    assert "Accès accordé à un service" in page
    assert clients.web.client_id in page
    assert "someone-elses-service" not in page


def test_a_refused_login_is_kept_although_the_request_rolls_back(app, clients):
    """The last guard of login/flow refuses an inactive professional; the error page rolls the
    request back, the refusal stays (the means' own checks refuse earlier, as a failure)."""
    start = _last_id(app)
    with app.test_request_context("/wallet/login/x/card", headers={"User-Agent": AGENT}):
        find_practitioner(OTHER).active = False
        db.session.commit()
        try:
            tx = LoginTransaction(
                id=uuid.uuid4().hex,
                client_id=clients.web.client_id,
                params={},
                browser_hash="b",
                csrf_token="c",
                expires_at=now() + timedelta(minutes=5),
            )
            db.session.add(tx)
            db.session.flush()
            with pytest.raises(TransactionError):
                accept_login(tx, LoginOutcome(OTHER, "CARD", "eidas3", epoch()), None)
            db.session.rollback()  # what the error page does
        finally:
            find_practitioner(OTHER).active = True
            db.session.commit()
    (event,) = _events_since(app, start)
    assert (event.event, event.outcome, event.national_id) == ("login_refused", "refused", OTHER)
    assert (event.client_id, event.means, event.acr) == (clients.web.client_id, "CARD", "eidas3")
    assert event.detail["reason"] == "inactive" and event.user_agent == AGENT


def test_an_event_commits_or_rolls_back_with_its_transaction(app):
    """``record`` writes in the request's transaction: gone with a rollback, kept by the
    commit with its address, user agent, detail and time read back as written."""
    start = _last_id(app)
    environ = {"REMOTE_ADDR": "192.0.2.7"}
    with app.test_request_context("/", headers={"User-Agent": AGENT}, environ_base=environ):
        record("push_sent", OTHER, kind="ciba", request="rolled-back")
        db.session.rollback()
        before = now()
        record("push_sent", OTHER, "device-1", kind="ciba", request="kept", tries=[1, 2])
        db.session.commit()
    (event,) = _events_since(app, start)
    assert (event.event, event.national_id, event.device_id) == ("push_sent", OTHER, "device-1")
    assert event.detail == {"kind": "ciba", "request": "kept", "tries": [1, 2]}
    assert (event.ip, event.user_agent) == ("192.0.2.7", AGENT)
    assert event.created_at.tzinfo is not None and event.created_at >= before - timedelta(seconds=1)
