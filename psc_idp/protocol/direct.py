"""UserInfo, introspection and three token requests answered before Flask in their plain case
(``http/prepared.py``).

A resource server introspects the same token on every API call, a single-page application
calls UserInfo again and again and refreshes its tokens, a service account asks for a token
before each batch, a DPI polls its CIBA requests: for these requests Flask's request cycle and
its hooks cost as much as the work itself. Here the same logic (``userinfo.userinfo_for``,
``introspection.introspection_result``, the client credentials grant's ``service_token``, the
refresh grant's ``refreshed``, the CIBA grant's ``waiting_answer``, the server's
``query_client``, the guard's checks, the rate limit) answers the plain case from the WSGI
environ:

- UserInfo: ``GET``, no query, no body, ``Authorization: Bearer <compact JWS>``, a token whose
  answer is the JSON claims (200);
- introspection: ``POST``, exactly ``application/x-www-form-urlencoded``, a body of ``token``
  and an optional ``token_type_hint`` with nothing to decode, ``Authorization: Basic`` of an
  enabled client registered for a secret, right, with no failure counted against it;
- the token endpoint, with the same form and client: ``grant_type=client_credentials`` and at
  most one known ``scope``, for a client whose tokens are not bound to a certificate (200 and
  the token); ``grant_type=refresh_token`` and a ``refresh_token`` of the client's that can be
  refreshed, without ``scope``, its tokens bound to nothing (200, the new tokens, the old one
  rotated); ``grant_type`` CIBA and an ``auth_req_id`` of the client's that is still waiting
  (``authorization_pending`` or ``slow_down``, the poll recorded).

Anything else returns None before anything Flask would write or count again, and Flask
answers: a CORS ``Origin``, ``DPoP``, a client certificate (own listener or proxy), an e-CPS
device header, any refusal (401, 403, 400, 429), a signed UserInfo, a token bound to a
certificate or (at UserInfo) to a DPoP key, a client that must send DPoP proofs, a secret that
does not verify (Flask counts the failure), a refresh token that cannot be refreshed (its
refusal, a reused token's family ended), a decided CIBA request (its tokens or its refusal), a
failure of the database (Flask answers 503). The rate limit is counted here once: Flask,
handed the request after it, finds the count in the environ
(``rate_limits.COUNTED``) and does not count again."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.base import OAuth2Error
from flask import Flask, Response

from psc_idp import rate_limits
from psc_idp.extensions import db
from psc_idp.http import guard
from psc_idp.http.prepared import Answer, Direct, direct_routes
from psc_idp.protocol.ciba.endpoint import GRANT_TYPE as CIBA_GRANT_TYPE
from psc_idp.protocol.ciba.grant import find_request, waiting_answer
from psc_idp.protocol.client_auth.secret_basic import basic_credentials
from psc_idp.protocol.client_auth.secret_lockout import verified_without_writes
from psc_idp.protocol.endpoints.introspection import IntrospectionEndpoint, introspection_result
from psc_idp.protocol.grants.client_credentials import GRANT_TYPE as CLIENT_CREDENTIALS
from psc_idp.protocol.grants.client_credentials import ClientCredentialsGrant, service_token
from psc_idp.protocol.grants.refresh_token import GRANT_TYPE as REFRESH
from psc_idp.protocol.grants.refresh_token import RefreshTokenGrant, refreshed
from psc_idp.protocol.server import save_issued
from psc_idp.protocol.userinfo import answer, userinfo_for

Environ = dict[str, Any]

#: Request parts only Flask weighs: a query the guard must see, CORS, a DPoP proof, a client
#: certificate (own TLS listener or a proxy's header), an e-CPS device, a chunked body.
FLASK_DECIDES = (
    "QUERY_STRING",
    "HTTP_ORIGIN",
    "HTTP_DPOP",
    "HTTP_CLIENT_CERT",
    "HTTP_X_SSL_CLIENT_CERT",
    "HTTP_ECPS_DEVICE",
    "SSL_CLIENT_CERT",
    "HTTP_TRANSFER_ENCODING",
)
#: The longest token looked up (``endpoints/issued.py`` ignores longer ones).
MAX_TOKEN = 8192
_BEARER = re.compile(r"Bearer ([A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,})")
#: A form with nothing to decode but the colons of a URN grant type (``%3A``, as form encoders
#: write them): no other ``%``, no ``+``, no control; read alike by the standard library and by
#: Werkzeug.
_PLAIN_FORM = re.compile(r"(?:[A-Za-z0-9._~=&:-]|%3[Aa])+")
FORM = "application/x-www-form-urlencoded"
#: CORS adds it to every protocol answer (``protocol/cors.py``), with an ``Origin`` or not.
VARY = ("Vary", "Origin")


class _ToFlask(Exception):
    """Something only Flask's answer may weigh was found half-way: Flask answers."""


def register(app: Flask) -> None:
    """The routes, at the paths their Flask views are registered under; none while the
    development tools must see every request in Flask (the request journal, error scenarios)."""
    if leaves_all_to_flask(app.extensions["psc_settings"]):
        return
    routes = direct_routes(app)
    for method, endpoint, answering in (
        ("GET", "protocol.userinfo", _userinfo),
        ("POST", "protocol.introspect", _introspection),
        ("POST", "protocol.token", _token),
    ):
        for rule in app.url_map.iter_rules(endpoint):
            routes[method, rule.rule] = Direct(endpoint, partial(answering, app))


def leaves_all_to_flask(settings: Any) -> bool:
    """Decided once at start: a feature that must see every request through Flask's hooks."""
    return bool(settings.scenarios_enabled or settings.journal_on)


def _unbound(thumbprint: str | None) -> bool:
    """The binding check of a request without a certificate nor a DPoP proof, for which a
    token bound to either is left to Flask (it knows where a certificate may come from, and
    answers a DPoP-bound token's refusal)."""
    if thumbprint is not None:
        raise _ToFlask
    return True


#: How a read-only request takes its connection on PostgreSQL (``_in_app``).
_OUTSIDE_TRANSACTION = {"isolation_level": "AUTOCOMMIT"}


@contextmanager
def _in_app(app: Flask, reads: bool = False) -> Iterator[None]:
    """The app's context and its database session, always ended (rolled back if need be).

    ``reads``: the work only reads (UserInfo, introspection), so on PostgreSQL its statements
    run outside a transaction (each is its own at READ COMMITTED, as inside one): no ``BEGIN``
    and no ``ROLLBACK``, two of a request's four round trips. A write that may still happen
    there (a rate limit's batched count) is one atomic upsert, committed by itself."""
    with app.app_context():
        try:
            if reads and db.engine.dialect.name == "postgresql":
                db.session.connection(execution_options=_OUTSIDE_TRANSACTION)
            yield
        finally:
            db.session.remove()


def _answer(response: Response) -> Answer:
    """The Flask response as the WSGI server gets it, before the hooks every answer gets."""
    return Answer(response.status, [*response.headers.to_wsgi_list(), VARY], response.get_data())


def _left_to_flask(environ: Environ) -> bool:
    return any(environ.get(name) for name in FLASK_DECIDES)


def _guarded(environ: Environ, pairs: list[tuple[str, str]]) -> bool:
    """What the input guard (``http/guard.py``) checks before any view, passed."""
    try:
        guard.check_headers(environ)
        guard.check_pairs(pairs)
    except guard.RefusedInput:
        return False
    return True


def _run(app: Flask, work: Callable[[], Response | None], reads: bool = False) -> Answer | None:
    with _in_app(app, reads):
        try:
            response = work()
        except _ToFlask:
            return None
        return _answer(response) if response is not None else None


# --- UserInfo -------------------------------------------------------------------------------
def _userinfo(app: Flask, environ: Environ) -> Answer | None:
    if _left_to_flask(environ) or environ.get("CONTENT_TYPE"):
        return None
    if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
        return None
    matched = _BEARER.fullmatch(environ.get("HTTP_AUTHORIZATION", ""))
    if matched is None or len(matched.group(1)) > MAX_TOKEN or not _guarded(environ, []):
        return None
    token = matched.group(1)

    def work() -> Response | None:
        info = userinfo_for(token, _unbound, _unbound)
        if info.status != 200 or info.signed_with or info.encrypted_with:
            return None
        return answer(info)

    return _run(app, work, reads=True)


# --- introspection --------------------------------------------------------------------------
def _introspection(app: Flask, environ: Environ) -> Answer | None:
    if _left_to_flask(environ) or environ.get("CONTENT_TYPE") != FORM:
        return None
    limit = app.config.get("MAX_CONTENT_LENGTH")
    form = _read_form(environ, limit, {"token"}, {"token_type_hint"})
    if form is None or not _guarded(environ, list(form.items())):
        return None
    hint = form.get("token_type_hint")
    if hint is not None and hint not in IntrospectionEndpoint.SUPPORTED_TOKEN_TYPES:
        return None
    credentials = _basic(environ)
    if credentials is None:
        return None
    server = app.extensions["psc_authorization_server"]
    name = IntrospectionEndpoint.ENDPOINT_NAME

    def work() -> Response | None:
        client = _authenticated(server, credentials, name, environ)
        if client is None:
            return None
        result = introspection_result(client, form["token"], hint, _unbound)
        return server.handle_response(*result)

    return _run(app, work, reads=True)


def _basic(environ: Environ) -> tuple[str, str] | None:
    credentials = basic_credentials({"Authorization": environ.get("HTTP_AUTHORIZATION", "")})
    return credentials if credentials is not None and all(credentials) else None


def _authenticated(
    server: Any, credentials: tuple[str, str], endpoint: str, environ: Environ
) -> Any | None:
    """The enabled client of a right ``client_secret_basic``, its rate limit counted once
    (``rate_limits.COUNTED``); None for anything Flask must answer or count (a wrong secret, a
    lockout, another method, a refusal)."""
    client_id, secret = credentials
    client = server.query_client(client_id)  # notes the client for the access line
    if client is None or not client.check_endpoint_auth_method("client_secret_basic", endpoint):
        return None
    if not verified_without_writes(client, secret):
        return None
    try:
        rate_limits.enforce(endpoint, client.client_id, environ)
    except rate_limits.TooManyRequests:
        return None  # Flask answers the same refusal, counted once
    return client


# --- token endpoint: a service account's token, a refresh, a CIBA poll still waiting -------
def _token(app: Flask, environ: Environ) -> Answer | None:
    """``client_credentials`` (no scope, or one known scope), a refresh without a scope, and
    a CIBA poll whose professional has not answered yet; any other grant, and anything
    unusual, is Flask's."""
    if _left_to_flask(environ) or environ.get("CONTENT_TYPE") != FORM:
        return None
    limit = app.config.get("MAX_CONTENT_LENGTH")
    form = _read_form(environ, limit, {"grant_type"}, {"auth_req_id", "scope", "refresh_token"})
    answering = _TOKEN_GRANTS.get(form["grant_type"]) if form is not None else None
    if form is None or answering is None:
        return None
    credentials = _basic(environ)
    if credentials is None or not _guarded(environ, list(form.items())):
        return None
    server = app.extensions["psc_authorization_server"]
    return _run(app, partial(answering, server, form, credentials, environ))


def _unbound_client(
    server: Any, credentials: tuple[str, str], environ: Environ, grant_type: str
) -> Any | None:
    """The authenticated client of ``grant_type`` whose tokens are bound neither to a
    certificate (Flask knows where one may come from) nor to a DPoP key (no proof here: Flask
    refuses, ``invalid_dpop_proof``)."""
    client = _authenticated(server, credentials, "token", environ)
    if (
        client is None
        or not client.check_grant_type(grant_type)
        or client.tls_client_certificate_bound_access_tokens
        or client.dpop_bound_access_tokens
    ):
        return None
    return client


def _service_token(
    server: Any, form: dict[str, str], credentials: tuple[str, str], environ: Environ
) -> Response | None:
    """A service account's token (Keycloak's client credentials), unless the client's token
    is bound to a certificate (Flask knows where one may come from) or to a DPoP key, or the
    scope is refused."""
    scope = form.get("scope")
    if set(form) - {"grant_type", "scope"} or scope == "":
        return None
    client = _unbound_client(server, credentials, environ, CLIENT_CREDENTIALS)
    if client is None:
        return None
    try:
        server.validate_requested_scope(scope)
    except OAuth2Error:
        return None  # Flask refuses it, in its words
    token = service_token(client, client.get_allowed_scope(scope))
    save_issued(CLIENT_CREDENTIALS, client.client_id)
    return server.handle_response(200, token, ClientCredentialsGrant.TOKEN_RESPONSE_HEADER)


def _refresh(
    server: Any, form: dict[str, str], credentials: tuple[str, str], environ: Environ
) -> Response | None:
    """New tokens for a refresh token of the client's, rotated (``refreshed``): the plain
    case only, for a client whose tokens are bound to nothing. A refusal, and the end of a
    family whose token is reused, are Flask's; a concurrent refresh of the same token that
    won the rotation is answered here, as Flask answers it."""
    if set(form) != {"grant_type", "refresh_token"} or len(form["refresh_token"]) > MAX_TOKEN:
        return None
    client = _unbound_client(server, credentials, environ, REFRESH)
    if client is None:
        return None
    try:
        token = refreshed(client, form["refresh_token"])
    except OAuth2Error as error:  # the professional disabled: Flask answers it, nothing written
        raise _ToFlask from error
    if token is None:
        return None
    try:
        save_issued(REFRESH, client.client_id)
    except OAuth2Error as error:  # the rotation lost to a concurrent refresh
        return server.handle_error_response(None, error)
    return server.handle_response(200, token, RefreshTokenGrant.TOKEN_RESPONSE_HEADER)


def _waiting_poll(
    server: Any, form: dict[str, str], credentials: tuple[str, str], environ: Environ
) -> Response | None:
    """``authorization_pending`` or ``slow_down``, the poll recorded; a decided request is
    Flask's (its tokens, its refusal)."""
    if set(form) != {"grant_type", "auth_req_id"}:
        return None
    client = _authenticated(server, credentials, "token", environ)
    if client is None or not client.check_grant_type(CIBA_GRANT_TYPE):
        return None
    if client.dpop_bound_access_tokens:
        return None  # a poll without a proof: Flask refuses it (invalid_dpop_proof)
    request = find_request(client, form["auth_req_id"])
    waiting = waiting_answer(client, request) if request is not None else None
    return server.handle_error_response(None, waiting) if waiting is not None else None


_TOKEN_GRANTS = {
    CLIENT_CREDENTIALS: _service_token,
    REFRESH: _refresh,
    CIBA_GRANT_TYPE: _waiting_poll,
}


def _read_form(
    environ: Environ, limit: int | None, required: set[str], optional: set[str]
) -> dict[str, str] | None:
    """The ``required`` fields, non-empty, and the ``optional`` ones, each once, from a body
    read in full and put back for Flask; None for anything else."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not (length.isascii() and length.isdigit()):
        return None
    size = int(length)
    if size == 0 or (limit is not None and size > limit):
        return None
    body = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(body)  # Flask reads the same body if it answers
    if len(body) != size or not _PLAIN_FORM.fullmatch(body.decode("ascii", "replace")):
        return None
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    form = dict(pairs)
    if len(form) != len(pairs) or not all(form.get(name) for name in required):
        return None
    if set(form) - required - optional:
        return None
    return form
