"""Each endpoint type is journaled for its client; secrets never reach a row; off, nothing."""

from __future__ import annotations

import uuid

import pytest
import werkzeug.test
from sqlalchemy import func, select

from psc_idp.devtools.journal import recording
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.extensions import db
from psc_idp.http import prepared
from psc_idp.http.prepared import direct_routes
from psc_idp.pki import issue_org
from psc_idp.protocol.clients import upsert_client
from tests.devtools.journal.conftest import as_text, rows
from tests.helpers import (
    INTROSPECT,
    ISSUER_PATH,
    LOGOUT,
    REVOKE,
    TOKEN,
    USERINFO,
    Browser,
    basic,
    exchange_code,
    pkce_pair,
    token_call,
)

PAR = f"{ISSUER_PATH}/protocol/openid-connect/ext/par/request"
CIBA = f"{ISSUER_PATH}/protocol/openid-connect/ext/ciba/auth"


def _logged_in(app, client):
    """A code flow to the end: authorize (twice: the request, then its resume), token."""
    browser = Browser(app)
    verifier, challenge = pkce_pair()
    callback = browser.login(
        client.client_id, code_challenge=challenge, code_challenge_method="S256"
    )
    tokens = exchange_code(app, client, callback["code"], verifier).get_json()
    return browser, callback, tokens


def test_the_code_flow_and_its_tokens_are_journaled(journal_app, own_client):
    browser, callback, tokens = _logged_in(journal_app, own_client)
    http = journal_app.test_client()
    refreshed = token_call(
        journal_app, own_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert http.get(USERINFO, headers=bearer).status_code == 200
    auth = basic(own_client.client_id, own_client.secret)
    assert http.post(INTROSPECT, data={"token": tokens["access_token"]}, headers=auth).json[
        "active"
    ]
    assert (
        http.post(REVOKE, data={"token": tokens["refresh_token"]}, headers=auth).status_code == 200
    )
    service = token_call(journal_app, own_client, grant_type="client_credentials")
    assert service.status_code == 200
    browser.http.get(LOGOUT, query_string={"client_id": own_client.client_id})

    found = rows(journal_app, own_client.client_id)
    kinds = [row["kind"] for row in found]
    assert kinds == [
        "authorize",
        "authorize",
        "token",
        "token",
        "userinfo",
        "introspection",
        "revocation",
        "token",
        "end_session",
    ]
    authorize, resume, code_exchange, refresh = found[:4]
    assert authorize["sent"]["query"]["client_id"] == own_client.client_id
    assert authorize["status"] == 302 and authorize["checks"] == []  # nonce, state, PKCE S256
    assert resume["path"].startswith("/wallet/auth/resume/")
    transaction = resume["path"].removeprefix("/wallet/auth/resume/")
    assert transaction.endswith("caractères)")  # the login transaction's id, shortened
    assert authorize["answer"]["summary"]["redirect"].startswith("/wallet/login/")
    assert resume["answer"]["summary"] == {"issued": ["code"]}
    assert code_exchange["sent"]["form"]["grant_type"] == "authorization_code"
    summary = code_exchange["answer"]["summary"]
    assert summary["token_type"] == "Bearer" and summary["expires_in"] == 120
    assert summary["issued"] == ["access_token", "id_token", "refresh_token"]
    assert "openid" in summary["scope"]
    assert refresh["sent"]["form"]["grant_type"] == "refresh_token"
    userinfo, introspection = found[4], found[5]
    assert "SubjectNameID" in userinfo["answer"]["summary"]["claims"]
    assert introspection["answer"]["summary"]["active"] is True
    assert found[7]["sent"]["form"]["grant_type"] == "client_credentials"
    # Nothing usable: no secret, no code, no token, in any row.
    everything = " ".join(as_text(row) for row in found)
    for secret in (
        own_client.secret,
        callback["code"],
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        tokens["access_token"].rsplit(".", 1)[1],  # not even a signature
    ):
        assert secret not in everything
    assert code_exchange["sent"]["headers"]["Authorization"] == (
        f"Basic {own_client.client_id}:••••"
    )


def test_par_and_ciba_are_journaled(journal_app, own_client):
    http = journal_app.test_client()
    auth = basic(own_client.client_id, own_client.secret)
    _, challenge = pkce_pair()
    pushed = http.post(
        PAR,
        data={
            "response_type": "code",
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid scope_all",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        headers=auth,
    )
    assert pushed.status_code == 201, pushed.get_json()
    ciba = http.post(CIBA, data={"scope": "openid", "login_hint": "899700218896"}, headers=auth)
    assert ciba.status_code >= 400  # not registered for CIBA: refused, and journaled

    par_row, ciba_row = rows(journal_app, own_client.client_id)
    assert (par_row["kind"], par_row["status"]) == ("par", 201)
    request_uri = pushed.get_json()["request_uri"]
    assert request_uri not in as_text(par_row)
    assert par_row["answer"]["summary"]["request_uri"].startswith(request_uri[:4])
    assert par_row["checks"] == []
    assert ciba_row["kind"] == "ciba"
    assert ciba_row["answer"]["error"] == ciba.get_json()["error"]


def test_a_userinfo_refusal_is_journaled_for_the_token_s_client(journal_app, own_client):
    _, _, tokens = _logged_in(journal_app, own_client)
    head, claims, _ = tokens["access_token"].split(".")
    forged = f"{head}.{claims}.AAAA"
    http = journal_app.test_client()
    refused = http.get(USERINFO, headers={"Authorization": f"Bearer {forged}"})
    assert refused.status_code == 401
    last = rows(journal_app, own_client.client_id)[-1]
    assert (last["kind"], last["status"]) == ("userinfo", 401)
    assert "token_invalid" in {check["code"] for check in last["checks"]}


def test_the_direct_routes_are_left_to_flask_while_the_journal_is_on(journal_app, app):
    assert direct_routes(journal_app) == {}
    assert direct_routes(app) != {}  # off: the plain cases are answered before Flask


def test_nothing_is_recorded_when_off(app, clients):
    """The suite's app has the journal off: no hook at all, no row."""
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(JournalEntry))
        db.session.remove()
    token_call(app, clients.web, grant_type="client_credentials")
    token_call(app, clients.web, grant_type="client_credentials", client_secret="wrong")
    Browser(app).authorize(clients.web.client_id, nonce=None)
    with app.app_context():
        after = db.session.scalar(select(func.count()).select_from(JournalEntry))
        db.session.remove()
    assert after == before
    assert recording._capture not in app.after_request_funcs.get(None, [])
    assert recording._write_captured not in app.teardown_request_funcs.get(None, [])


def test_a_journal_that_cannot_be_written_leaves_the_answer_alone(
    journal_app, own_client, monkeypatch, caplog
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(recording, "write", broken)
    answer = token_call(journal_app, own_client, grant_type="client_credentials")
    assert answer.status_code == 200 and answer.get_json()["access_token"]
    assert "entrée non écrite" in caplog.text
    assert rows(journal_app, own_client.client_id) == []


@pytest.mark.parametrize("path", [TOKEN, INTROSPECT])
def test_a_request_naming_no_registered_client_is_not_journaled(journal_app, path):
    http = journal_app.test_client()
    http.post(path, data={"token": "x"}, headers=basic("nobody-registered", "x"))
    assert rows(journal_app, "nobody-registered") == []


def test_a_certificate_client_s_requests_are_journaled_with_the_certificate_noted(journal_app):
    """The card/TLS variant: a ``tls_client_auth`` client pushes, then introspects, with its
    ORG AUTH_CLI certificate (own TLS listener: ``SSL_CLIENT_CERT`` in the environ)."""
    client_id = f"journal-tls-{uuid.uuid4().hex[:6]}"
    with journal_app.app_context():
        issued = issue_org("1B0064177", "CLINIQUE DU JOURNAL", "DPI JOURNAL")
        upsert_client(
            {
                "client_id": client_id,
                "token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_subject_dn": issued.subject_dn,
                "redirect_uris": ["http://localhost:3000/callback"],
                "grant_types": ["authorization_code", "client_credentials"],
            }
        )
        db.session.commit()
        pem = issued.certificate_pem().decode()
        db.session.remove()
    tls = {"environ_base": {"SSL_CLIENT_CERT": pem}}
    http = journal_app.test_client()
    _, challenge = pkce_pair()
    pushed = http.post(
        PAR,
        data={
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid scope_all",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        **tls,
    )
    assert pushed.status_code == 201, pushed.get_json()
    refused = http.post(PAR, data={"client_id": client_id, "response_type": "code"})
    assert refused.status_code == 401  # no certificate
    with_certificate, without = rows(journal_app, client_id)
    assert with_certificate["sent"]["client_certificate"] is True
    assert "client_certificate" not in without["sent"]
    assert without["answer"]["error"] == "invalid_client"
    assert pem.splitlines()[1] not in as_text(with_certificate)


def test_a_form_post_answer_is_read_from_the_page(journal_app, own_client):
    """``response_mode=form_post``: the code travels in a page, not a redirect."""
    browser = Browser(journal_app)
    _, challenge = pkce_pair()
    first = browser.authorize(
        own_client.client_id,
        code_challenge=challenge,
        code_challenge_method="S256",
        response_mode="form_post",
    )
    done = browser.pick_identity(first.headers["Location"])
    posted = browser.http.get(done.headers["Location"])
    assert posted.status_code == 200 and 'name="code"' in posted.get_data(as_text=True)
    resume = rows(journal_app, own_client.client_id)[-1]
    assert resume["answer"]["summary"] == {"issued": ["code"]}
    form_post = resume["answer"]["form_post"]
    assert form_post["action"] == "http://localhost:3000/callback"
    assert form_post["fields"]["code"].endswith("caractères)")


def test_a_body_too_large_is_journaled_without_its_form(journal_app, own_client, caplog):
    limit = journal_app.config["MAX_CONTENT_LENGTH"]
    answer = journal_app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials", "padding": "x" * (limit + 1)},
        headers=basic(own_client.client_id, own_client.secret),
    )
    assert answer.status_code == 413
    assert "requête non lue" not in caplog.text and "entrée non écrite" not in caplog.text
    found = rows(journal_app, own_client.client_id)
    assert [(row["status"], row["sent"]["form"]) for row in found] == [(413, {})]


def test_the_plain_cases_served_by_the_workers_app_are_journaled(journal_app, own_client):
    """Through ``http/prepared.wrap`` (what granian's workers run): a plain introspection and a
    service account's token, answered before Flask when the journal is off, reach Flask and
    its journal when it is on."""
    workers = prepared.wrap(journal_app)
    auth = basic(own_client.client_id, own_client.secret)
    form = {"Content-Type": "application/x-www-form-urlencoded", **auth}
    http = werkzeug.test.Client(workers)
    token = http.post(TOKEN, data="grant_type=client_credentials", headers=form)
    assert token.status_code == 200
    access_token = token.get_json()["access_token"]
    http.post(INTROSPECT, data=f"token={access_token}", headers=form)
    kinds = [row["kind"] for row in rows(journal_app, own_client.client_id)]
    assert kinds == ["token", "introspection"]
