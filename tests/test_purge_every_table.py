"""Every table is bounded: ``psc-idp purge`` deletes its dead rows and keeps its live ones, or the
table is listed below as permanent, with the reason. A table added without either fails here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect

import psc_idp.models as models
from psc_idp.directory.importers.models import RunStatus
from psc_idp.extensions import db
from psc_idp.timeutil import now

#: Tables only an administrator (or the owner, or a realm or directory import) removes.
PERMANENT: dict[str, str] = {
    "oauth_client": "registered clients: removed by an administrator (realm, CLI)",
    "realm_option": "realm configuration, replaced by the next realm import",
    "ecps_device": "a professional's activated phones: revoked by the owner or an administrator",
    "ecps_scenario": "realm scenarios (headless CI behaviour), one per professional at most",
    "fido_credential": "a professional's security keys: removed by the owner or an administrator",
    "pki_certificate": "the test PKI's register of issued certificates, which the CRLs list",
    "pki_crl": "one current CRL per CA of ours (cRLNumber only grows)",
    "dir_practitioner": "directory data: deactivated by imports, never deleted by age",
    "dir_exercice": "directory data (a practitioner's professions), replaced by imports",
    "dir_activity": "directory data (a practitioner's activities), replaced by imports",
    "dir_other_id": "directory data (a practitioner's other identifiers), replaced by imports",
    "dir_api_key": "FHIR API keys: revoked by an administrator",
    "api_protected": "the protected APIs of the realm file, replaced by the next realm import",
    "fi_identity_provider": "the establishments' providers of the realm file (FI Tiers)",
    "dev_scenario": "error scenarios: configuration (CLI, realm), at most 50 per client, and"
    " deleted with their client",
    "admin_account": "the console's administrators: removed with psc-idp admin remove",
}

#: For a table: ``rows(context) -> (dead, live)``, ORM objects to add.
Rows = Callable[[dict[str, Any]], tuple[list[Any], list[Any]]]
ROWS: dict[str, Rows] = {}


def rows_for(table: str) -> Callable[[Rows], Rows]:
    def register(fn: Rows) -> Rows:
        ROWS[table] = fn
        return fn

    return register


def uid() -> str:
    return uuid.uuid4().hex


DAY = timedelta(days=1)
LONG_AGO = timedelta(days=800)


# --- protocol ---------------------------------------------------------------------------------
def grant(context: dict[str, Any], **fields: Any) -> models.Grant:
    return models.Grant(
        id=uid(), client_id=context["client_id"], national_id="899700000001", **fields
    )


@rows_for("oauth_code")
def _codes(context):
    def code(expires_at):
        return models.AuthorizationCode(
            code_hash=uid(),
            client_id=context["client_id"],
            redirect_uri="https://rp.example/cb",
            national_id="899700000001",
            sid=uid(),
            auth_time=0,
            acr="eidas1",
            auth_mode="CARD",
            expires_at=expires_at,
        )

    # Used codes are kept as long as their tokens may live (replay detection).
    return [code(now() - 2 * DAY)], [code(now() - timedelta(minutes=5))]


@rows_for("oauth_grant")
def _grants(context):
    live_with_token = grant(context, created_at=now() - 2 * DAY)
    token = models.AccessToken(jti=uid(), grant=live_with_token, expires_at=now() + DAY)
    return [grant(context, created_at=now() - 2 * DAY)], [
        grant(context),
        live_with_token,
        token,
    ]


@rows_for("oauth_access_token")
def _access_tokens(context):
    family = grant(context)
    return [models.AccessToken(jti=uid(), grant=family, expires_at=now() - DAY)], [
        family,
        models.AccessToken(jti=uid(), grant=family, expires_at=now() + DAY),
    ]


@rows_for("oauth_refresh_token")
def _refresh_tokens(context):
    family = grant(context)
    return [models.RefreshToken(token_hash=uid(), grant=family, expires_at=now() - DAY)], [
        family,
        models.RefreshToken(token_hash=uid(), grant=family, expires_at=now() + DAY),
    ]


@rows_for("oauth_par_request")
def _pushed(context):
    def par(expires_at):
        return models.PushedAuthorizationRequest(
            uri_hash=uid(), client_id=context["client_id"], params={}, expires_at=expires_at
        )

    return [par(now() - DAY)], [par(now() + DAY)]


@rows_for("seen_once")
def _seen_once(context):
    return [models.SeenOnce(key=uid(), expires_at=now() - DAY)], [
        models.SeenOnce(key=uid(), expires_at=now() + DAY)
    ]


@rows_for("ciba_request")
def _ciba(context):
    def request(**fields):
        return models.CibaRequest(
            id=uid(),
            auth_req_hash=uid(),
            client_id=context["client_id"],
            national_id="899700000001",
            channel="MOBILE",
            **fields,
        )

    dead = [
        request(status="issued", expires_at=now() + DAY),  # tokens taken
        request(status="pending", expires_at=now() - DAY),
        request(status="approved", expires_at=now() - DAY),  # never taken
    ]
    live = [
        request(status="pending", expires_at=now() + DAY),
        request(status="denied", expires_at=now() + DAY),  # the client has yet to hear it
        request(status="pending", expires_at=now() - timedelta(minutes=1)),  # "expired_token"
    ]
    return dead, live


@rows_for("logout_delivery")
def _logout_deliveries(context):
    def delivery(age, **fields):
        return models.LogoutDelivery(
            client_id=context["client_id"], sid=uid(), jti=uid(), created_at=now() - age, **fields
        )

    dead = [
        delivery(2 * DAY, delivered_at=now() - 2 * DAY),  # delivered
        delivery(2 * DAY, attempts=8, next_attempt_at=now() + DAY),  # given up, lease stuck
    ]
    live = [
        delivery(timedelta(hours=1), delivered_at=now()),  # kept a day for the operator
        delivery(2 * DAY, attempts=1, next_attempt_at=now() + DAY),  # still retried
    ]
    return dead, live


@rows_for("logout_continuation")
def _logout_continuations(context):
    def continuation(expires_in):
        return models.LogoutContinuation(id=uid(), frames=[], expires_at=now() + expires_in)

    # The browser never came back from the establishment's logout; still on its way.
    return [continuation(-timedelta(minutes=1))], [continuation(timedelta(minutes=5))]


# --- login ------------------------------------------------------------------------------------
@rows_for("login_transaction")
def _transactions(context):
    def transaction(expires_at):
        return models.LoginTransaction(
            id=uid(),
            client_id=context["client_id"],
            params={},
            browser_hash=uid(),
            csrf_token=uid(),
            expires_at=expires_at,
        )

    return [transaction(now() - DAY)], [transaction(now() + DAY)]


@rows_for("sso_session")
def _sessions(context):
    def session(**fields):
        return models.SsoSession(
            id=uid(),
            cookie_hash=uid(),
            national_id="899700000001",
            auth_mode="CARD",
            acr="eidas1",
            auth_time=0,
            **fields,
        )

    dead = [
        session(ended_at=now()),
        session(created_at=now() - DAY, last_seen_at=now()),
        session(last_seen_at=now() - DAY),
    ]
    return dead, [session()]


# --- e-CPS ------------------------------------------------------------------------------------
def push(expires_at) -> models.EcpsPush:
    return models.EcpsPush(
        id=uid(), national_id="899700000001", kind="login", expires_at=expires_at
    )


@rows_for("ecps_push")
def _pushes(context):
    # Kept an hour after expiry: the login, CIBA request or enrolment may still read it.
    return [push(now() - DAY)], [push(now() + DAY), push(now() - timedelta(minutes=5))]


@rows_for("ecps_push_gate")
def _gates(context):
    return [models.EcpsPushGate(national_id=uid(), last_push_at=now() - DAY)], [
        models.EcpsPushGate(national_id=uid(), last_push_at=now())
    ]


@rows_for("ecps_activation")
def _activations(context):
    def activation(expires_at):
        return models.EcpsActivation(id=uid(), mode="contact", expires_at=expires_at)

    return [activation(now() - timedelta(minutes=1))], [activation(now() + timedelta(minutes=5))]


@rows_for("outbox_message")
def _outbox(context):
    def message(created_at):
        return models.OutboxMessage(
            channel="email", recipient="a@example.org", body="…", created_at=created_at
        )

    return [message(now() - 2 * DAY)], [message(now() - timedelta(hours=1))]


@rows_for("audit_event")
def _audit(context):
    def event(created_at):
        return models.AuditEvent(national_id="899700000001", event="test", created_at=created_at)

    return [event(now() - LONG_AGO)], [event(now() - 30 * DAY)]


# --- FIDO, throttle, PKI, directory -----------------------------------------------------------
@rows_for("fi_tiers_login")
def _brokered_logins(context):
    def brokered(expires_at):
        return models.FiTiersLogin(
            id=uid(),
            tx_id=uid(),
            alias="FI_1",
            nonce=uid(),
            code_verifier=uid(),
            expires_at=expires_at,
        )

    return [brokered(now() - DAY)], [brokered(now() + DAY)]


@rows_for("fi_tiers_pairing")
def _pairings(context):
    def pairing(expires_at):
        return models.FiTiersPairing(
            alias="FI_1",
            local_id=uid(),
            national_id="899700100318",
            paired_by="MOBILE",
            expires_at=expires_at,
        )

    return [pairing(now() - DAY)], [pairing(now() + DAY)]


@rows_for("fido_ceremony")
def _ceremonies(context):
    def ceremony(expires_at):
        return models.FidoCeremony(
            id=uid(), kind="authenticate", owner=uid(), state={}, expires_at=expires_at
        )

    return [ceremony(now() - DAY)], [ceremony(now() + DAY)]


@rows_for("journal_entry")
def _journal(context):
    def entry(at):
        return models.JournalEntry(
            client_id=context["client_id"],
            at=at,
            kind="token",
            method="POST",
            path="/t",
            status=200,
            sent={},
            answer={},
            checks=[],
        )

    return [entry(now() - 8 * DAY)], [entry(now() - timedelta(hours=1))]


@rows_for("throttle_window")
def _windows(context):
    return [models.ThrottleWindow(key=uid(), window_start=now() - 2 * DAY, count=1)], [
        models.ThrottleWindow(key=uid(), window_start=now() - timedelta(hours=1), count=1)
    ]


@rows_for("lockout")
def _lockouts(context):
    def lockout(last_failure, locked_until=None, permanent=False):
        return models.Lockout(
            kind="client",
            subject=uid(),
            failures=5,
            lockouts=1,
            last_failure_at=last_failure,
            locked_until=locked_until,
            permanent=permanent,
            last_source="secret",
        )

    long_ago = now() - 2 * DAY
    dead = [lockout(long_ago), lockout(long_ago, locked_until=long_ago + timedelta(minutes=15))]
    live = [
        lockout(now() - timedelta(minutes=5)),  # still counting
        lockout(long_ago, locked_until=now() + timedelta(minutes=5)),  # still locked
        lockout(long_ago, permanent=True),  # until psc-idp unlock
    ]
    return dead, live


@rows_for("pki_crl_cache")
def _crl_cache(context):
    def crl(next_update):
        return models.PkiCrlCache(
            url=f"http://crl.example/{uid()}.crl",
            issuer_dn="CN=Other",
            der=b"\x30\x00",
            this_update=now() - DAY,
            next_update=next_update,
        )

    return [crl(now() - timedelta(minutes=1))], [crl(now() + DAY)]


def import_run(started_at, status) -> models.ImportRun:
    return models.ImportRun(
        file_sha256=uid(), file_format="test", status=status, started_at=started_at
    )


@rows_for("dir_import_run")
def _runs(context):
    done = RunStatus.done
    dead = [import_run(now() - LONG_AGO, done), import_run(now() - LONG_AGO, RunStatus.running)]
    return dead, [import_run(now() - 30 * DAY, done), import_run(now(), RunStatus.running)]


@rows_for("dir_import_seen")
def _seen(context):
    finished = import_run(now(), RunStatus.done)
    running = import_run(now(), RunStatus.running)
    db.session.add_all([finished, running])
    db.session.flush()
    return [models.ImportSeen(run_id=finished.id, national_id=uid())], [
        running,
        models.ImportSeen(run_id=running.id, national_id=uid()),
    ]


# --- API Pro Santé Connectées -----------------------------------------------------------------
@rows_for("api_exchanged_token")
def _exchanged_tokens(context):
    def token(expires_at):
        return models.ExchangedToken(
            jti=uid(),
            audience="demo-api",
            client_id=context["client_id"],
            national_id="899700000001",
            userinfo_key=uid(),
            cnf_x5t=uid(),
            expires_at=expires_at,
        )

    return [token(now() - DAY)], [token(now() + timedelta(minutes=1))]


@rows_for("api_userinfo_cache")
def _cached_userinfo(context):
    return [models.UserinfoCache(key=uid(), document={}, expires_at=now() - DAY)], [
        models.UserinfoCache(key=uid(), document={}, expires_at=now() + DAY)
    ]


# --- admin console ----------------------------------------------------------------------------
@rows_for("admin_session")
def _admin_sessions(context):
    def session(**fields):
        return models.AdminSession(
            id=uid(), cookie_hash=uid(), login="root", method="card", **fields
        )

    idle = now() - timedelta(hours=1)
    return [session(ended_at=now()), session(last_seen_at=idle)], [session()]


@rows_for("admin_totp_step")
def _admin_totp_steps(context):
    return [models.AdminTotpStep(login="root", step=1, used_at=now() - DAY)], [
        models.AdminTotpStep(login="root", step=2, used_at=now())
    ]


# --- the tests --------------------------------------------------------------------------------
# --- devtools -------------------------------------------------------------------------------
@rows_for("debugger_run")
def _debugger_runs(context):
    def run(expires_at) -> models.DebuggerRun:
        return models.DebuggerRun(
            id=uid(), browser=uid(), flow="code", data={}, expires_at=expires_at
        )

    return [run(now() - timedelta(minutes=1))], [run(now() + timedelta(minutes=30))]


def all_tables() -> set[str]:
    return {table.name for table in db.metadata.sorted_tables}


def test_every_table_has_a_purge_rule_or_a_reason():
    tables = all_tables()
    assert not set(ROWS) & set(PERMANENT), "a table is both purged and permanent"
    missing = tables - set(ROWS) - set(PERMANENT)
    assert not missing, f"tables with neither a purge rule nor a reason to be kept: {missing}"
    assert not (set(ROWS) | set(PERMANENT)) - tables, "rules for tables that no longer exist"
    assert all(reason.strip() for reason in PERMANENT.values())


def _key(row: Any) -> tuple[type, Any]:
    return type(row), inspect(row).identity


def _exists(key: tuple[type, Any]) -> bool:
    model, identity = key
    return db.session.get(model, identity) is not None


@pytest.mark.parametrize("table", sorted(ROWS))
def test_purge_deletes_dead_rows_and_keeps_live_ones(app, clients, table):
    with app.app_context():
        dead, live = ROWS[table]({"client_id": clients.web.client_id})
        db.session.add_all([*dead, *live])
        db.session.commit()
        owned = [row for row in dead if row.__table__.name == table]
        kept = [row for row in live if row.__table__.name == table]
        assert owned and kept, "each rule is shown on a dead and a live row of its table"
        dead_keys, live_keys = [_key(row) for row in owned], [_key(row) for row in kept]
        db.session.remove()

    result = app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert all(isinstance(value, int) for value in counts.values())
    assert sum(counts.values()) >= len(dead_keys)

    with app.app_context():
        assert [key for key in dead_keys if _exists(key)] == []
        assert [key for key in live_keys if not _exists(key)] == []
        db.session.remove()


def test_purge_prints_the_counts_of_every_registered_rule(app):
    result = app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    for key in ("ciba_requests", "ecps_pushes", "ecps_activations", "outbox_messages"):
        assert key in counts
    for key in ("audit_events", "throttle_windows", "lockouts", "fido_ceremonies", "import_runs"):
        assert key in counts
    plain = app.test_cli_runner().invoke(args=["purge"])
    assert plain.exit_code == 0 and "ecps_pushes" in plain.output


def test_a_purge_that_fails_deletes_nothing(app, monkeypatch):
    """One transaction: a failing rule rolls back what the others deleted."""
    from psc_idp.purge import EXTENSION

    with app.app_context():
        expired = models.SeenOnce(key=uid(), expires_at=now() - DAY)
        db.session.add(expired)
        db.session.commit()
        key = _key(expired)
        db.session.remove()

    def broken(settings):
        raise RuntimeError("broken rule")

    monkeypatch.setitem(app.extensions[EXTENSION], "zz_broken", broken)
    result = app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code != 0
    with app.app_context():
        assert _exists(key)
        db.session.remove()
