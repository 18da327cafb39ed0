"""The scenarios that answer for an endpoint: an OAuth error, an HTTP status, a delay, a CIBA
request denied or expired. Run before the view (``before_request``), once the input guard has
passed; registered only when ``PSC_SCENARIOS`` is on.

Who a request is for is read as the endpoint itself would: the client from its credentials
(Basic, ``client_id``, a client assertion's ``iss``), the professional from the code, the
refresh token, the access token, the CIBA request or its ``login_hint``. The credentials are
not verified here: a scenario is a development tool, and its answer is an error anyway.

At the authorization endpoint the error goes to the registered redirect URI only (the request
is validated first, as the endpoint does; an invalid one gets its usual answer). A client-wide
scenario answers the request itself; one naming a professional answers when that
professional's login comes back (``/wallet/auth/resume``) or at once when their SSO session
would answer; so does a client-wide one for a
pushed request or a request object (whose parameters are known there)."""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask, Response, current_app, g, jsonify, request

from psc_idp import audit
from psc_idp.audit import events
from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.models import Scenario
from psc_idp.devtools.scenarios.reading import HEADER
from psc_idp.devtools.scenarios.rules import ERROR_STATUS
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.login.sessions import current_session
from psc_idp.protocol.ciba.endpoint import GRANT_TYPE as CIBA_GRANT_TYPE
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.client_auth.secret_basic import basic_credentials
from psc_idp.protocol.lookups import access_token_with_client
from psc_idp.protocol.models import AuthorizationCode
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.tokens import decode_access_token, find_refresh_token
from psc_idp.protocol.userinfo import bearer_error, presented_token

log = logging.getLogger("psc_idp.scenarios")

_APPLIED = "_psc_scenarios_applied"

#: Flask endpoint → the scenarios' endpoint.
ENDPOINT_OF = {
    "protocol.authorize_keycloak_path": "authorize",
    "authorization.authorize": "authorize",
    "authorization.resume": "authorize",
    "protocol.token": "token",
    "protocol.userinfo": "userinfo",
    "protocol.introspect": "introspect",
    "protocol.backchannel_authentication": "ciba",
}
#: The effects answered here; the others change what is issued (``issuance.py``).
ANSWERING = ("delay", "error", "status")
CIBA_ERRORS = {"denied": "access_denied", "expired": "expired_token"}


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_mark)


# --- noting -------------------------------------------------------------------------------
def note(rows: list[Scenario], endpoint: str, national_id: str | None, audited: bool) -> None:
    """Shown in the answer's header and in the log; audited (staged in the session, committed
    with the request's work) when ``audited``."""
    applied = g.setdefault(_APPLIED, [])
    for row in rows:
        applied.append(row.id)
        log.info(
            "scénario %s appliqué : %s %s=%s (client %s, professionnel %s)",
            row.id,
            endpoint,
            row.effect,
            row.value,
            row.client_id,
            row.national_id or "tous",
        )
        if audited:
            audit.record(
                events.SCENARIO_APPLIED,
                national_id,
                client_id=row.client_id,
                outcome=row.effect,
                scenario=row.id,
                endpoint=endpoint,
                value=row.value,
            )


def _mark(response: Response) -> Response:
    applied = g.get(_APPLIED)
    if applied:
        response.headers[HEADER] = ", ".join(dict.fromkeys(applied))
    return response


# --- before the view -----------------------------------------------------------------------
def _before() -> Response | None:
    endpoint = ENDPOINT_OF.get(request.endpoint or "")
    if endpoint is None or request.method not in ("GET", "POST"):
        return None
    ciba_poll = endpoint == "token" and request.form.get("grant_type") == CIBA_GRANT_TYPE
    if not store.any_at(endpoint) and not (ciba_poll and store.any_at("ciba")):
        return None
    if endpoint == "authorize":
        return _at_authorize()
    who = _who(endpoint)
    if who is None:
        return None
    client_id, national_id = who
    rows = [r for r in store.applicable(client_id, endpoint, national_id) if r.effect in ANSWERING]
    if ciba_poll:
        outcome = store.applicable(client_id, "ciba", national_id)
        rows += [r for r in outcome if r.effect == "ciba_outcome"]
    if not rows:
        return None
    return _answer(rows, endpoint, national_id)


def _answer(rows: list[Scenario], endpoint: str, national_id: str | None) -> Response | None:
    note(rows, endpoint, national_id, audited=True)
    db.session.commit()  # nothing else is in the session yet: the audit rows only
    for row in rows:
        if row.effect == "delay":
            time.sleep(float(row.value))
    for row in rows:
        if row.effect == "error":
            return _error(endpoint, row.value, _status_of(row.value, endpoint), row)
        if row.effect == "status":
            status = int(row.value)
            return _error(endpoint, _code_for_status(status), status, row)
        if row.effect == "ciba_outcome":
            return _error("token", CIBA_ERRORS[row.value], 400, row)
    return None  # a delay only: the normal answer follows


def _status_of(code: str, endpoint: str) -> int:
    if code == "access_denied" and endpoint == "ciba":
        return 403  # CIBA §13
    return ERROR_STATUS.get(code, 400)


def _code_for_status(status: int) -> str:
    if status == 503:
        return "temporarily_unavailable"
    return "server_error" if status >= 500 else "invalid_request"


def _error(endpoint: str, code: str, status: int, row: Scenario) -> Response:
    description = f"psc-idp scenario {row.id}"
    if endpoint == "userinfo":
        return bearer_error(status, code, description)
    response = jsonify(error=code, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# --- who a request is for -------------------------------------------------------------------
def _who(endpoint: str) -> tuple[str, str | None] | None:
    if endpoint == "userinfo":
        return _token_owner(presented_token(request)[0])
    client_id = _client_id()
    if client_id is None:
        return None
    form = request.form
    if endpoint == "introspect":
        owner = _token_owner(form.get("token"))
        return client_id, owner[1] if owner is not None else None
    if endpoint == "ciba":
        return client_id, _national_id(form.get("login_hint"))
    return client_id, _token_request_professional(client_id)


def _client_id() -> str | None:
    credentials = basic_credentials(request.headers)
    if credentials is not None and credentials[0]:
        return credentials[0]
    if request.form.get("client_id"):
        return request.form["client_id"]
    assertion = request.form.get("client_assertion")
    if assertion:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        return str(claims.get("iss") or "") or None
    return None


def _token_owner(value: str | None) -> tuple[str, str | None] | None:
    """The client and professional of an access or refresh token of ours."""
    if not value:
        return None
    claims = decode_access_token(value)
    if claims is not None:
        state = access_token_with_client(str(claims.get("jti", "")))
        return (state.family.client_id, state.family.national_id) if state else None
    refresh = find_refresh_token(value)
    if refresh is not None and refresh.grant is not None:
        return refresh.grant.client_id, refresh.grant.national_id
    return None


def _token_request_professional(client_id: str) -> str | None:
    form = request.form
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code" and form.get("code"):
        code = db.session.get(AuthorizationCode, hash_secret(form["code"], "code"))
        return code.national_id if code is not None else None
    if grant_type == "refresh_token" and form.get("refresh_token"):
        owner = _token_owner(form["refresh_token"])
        return owner[1] if owner is not None else None
    if grant_type == CIBA_GRANT_TYPE and form.get("auth_req_id"):
        ciba = db.session.scalars(
            db.select(CibaRequest).where(
                CibaRequest.auth_req_hash == hash_secret(form["auth_req_id"][:512], "ciba")
            )
        ).first()
        return ciba.national_id if ciba is not None and ciba.client_id == client_id else None
    return None


def _national_id(value: str | None) -> str | None:
    try:
        return validate_national_id(value or "")
    except InvalidNationalId:
        return None


# --- the authorization endpoint -------------------------------------------------------------
def _at_authorize() -> Response | None:
    from psc_idp.protocol.authorize import StoredRequest, validate_request

    server: Any = current_app.extensions["psc_authorization_server"]
    if request.endpoint == "authorization.resume":
        tx = db.session.get(LoginTransaction, (request.view_args or {}).get("tx_id", ""))
        if tx is None or tx.status != LoginStatus.AUTHENTICATED:
            return None
        oauth_request, national_id = StoredRequest(dict(tx.params)), tx.national_id
        # Client-wide ones too: a pushed request's, or one added while the professional logged in.
        rows = store.applicable(tx.client_id, "authorize", national_id)
    else:
        oauth_request = server.create_oauth2_request(None)
        if carries_reference(oauth_request.payload.data):
            return None  # validated once resolved: at the resume
        # A live SSO session answers at once: its professional is the one the code would name.
        session = current_session(request)
        national_id = session.national_id if session is not None else None
        rows = store.applicable(oauth_request.payload.client_id or "", "authorize", national_id)
    rows = [r for r in rows if r.effect in ANSWERING]
    if not rows:
        return None
    try:
        grant, redirect_uri = validate_request(oauth_request)
    except OAuth2Error:
        db.session.rollback()
        return None  # the endpoint gives its own answer (its page, or its error redirect)
    note(rows, "authorize", national_id, audited=True)
    db.session.commit()
    for row in rows:
        if row.effect == "delay":
            time.sleep(float(row.value))
    for row in rows:
        if row.effect == "error":
            error = OAuth2Error(
                description=f"psc-idp scenario {row.id}",
                redirect_uri=redirect_uri,
                state=grant.request.payload.state,
            )
            error.error = row.value
            return server.handle_error_response(grant.request, error)
        if row.effect == "status":
            status = int(row.value)
            return _error("authorize", _code_for_status(status), status, row)
    return None


def carries_reference(params: Any) -> bool:
    """A pushed request or a request object: its parameters are known once resolved."""
    return bool(params.get("request_uri") or params.get("request"))
