"""The authorization endpoint: validate, then either answer from the SSO session or pause in a
login transaction; ``resume`` finishes the request once the wallet reports who logged in.

A request naming a pushed request (RFC 9126 ``request_uri`` + ``client_id``) takes the pushed
parameters instead of its own, then goes on as any other; so does one carrying a request object
(RFC 9101 ``request`` or a registered ``request_uri``, ``request_object``) once verified. A client
registered with ``require_signed_request_object`` is refused anything else.

Checks, in order: Authlib's (client, redirect URI, response type, scope), then
``authorize_checks`` (duplicates, lengths, PKCE, prompt, max_age), then the session
decision (prompt=login, max_age, acr) below."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import LoginRequiredError
from flask import Response, current_app, redirect, request, url_for

from psc_idp.extensions import db
from psc_idp.login.models import LoginStatus, SsoSession
from psc_idp.login.sessions import current_session, touch
from psc_idp.login.transactions import (
    browser_cookie,
    create_transaction,
    load_transaction,
    resume_once,
    set_browser_cookie,
)
from psc_idp.protocol import pages
from psc_idp.protocol.authorize_checks import (
    acceptable_acrs,
    prompt_values,
    unmet_essential_acr,
)
from psc_idp.protocol.claims_request import UnmetAuthenticationRequirements
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.encryption.client_key import EncryptionKeyUnavailable
from psc_idp.protocol.grants.authorization_code import AuthorizationCodeGrant
from psc_idp.protocol.pushed_requests import is_pushed_reference, take_pushed_request
from psc_idp.protocol.redirect_check import redirect_check
from psc_idp.protocol.request_object import carries_request_object, resolve
from psc_idp.protocol.responses import unencryptable_page
from psc_idp.protocol.staged import discard_staged
from psc_idp.timeutil import epoch


class StoredRequest(OAuth2Request):
    """An authorization request rebuilt from its stored parameters."""

    def __init__(self, params: dict[str, str]):
        super().__init__("GET", request.url, headers={})
        self.payload = BasicOAuth2Payload(params)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data


def _server():
    return current_app.extensions["psc_authorization_server"]


def authorize() -> Response:
    oauth_request = _server().create_oauth2_request(None)
    if is_pushed_reference(oauth_request.payload.data.get("request_uri")):
        params = _take_pushed(oauth_request)
        if params is None:
            # Nothing vouches for a redirect URI: the French page.
            error = InvalidRequestError("Invalid parameter: request_uri")
            return _error(oauth_request, error)
        oauth_request = StoredRequest(params)
        signed = True  # a client that must sign was refused at PAR without a request object
    elif carries_request_object(oauth_request.payload.data):
        resolved = _resolve_request_object(oauth_request)
        if isinstance(resolved, Response):
            return resolved
        oauth_request, signed = StoredRequest(resolved), True
    else:
        signed = False
    grant, redirect_uri, failure = _validate(oauth_request)
    if failure is not None:
        return failure
    if not signed and grant.client.require_signed_request_object:
        error = InvalidRequestError("Missing parameter: request", redirect_uri=redirect_uri)
        return _error(grant.request, error)
    session = current_session(request)
    if session is not None and _session_satisfies(grant.request, session):
        touch(session)
        return _issue_code(grant, redirect_uri, _context_from_session(session))
    if "none" in prompt_values(grant.request):
        return _error(grant.request, LoginRequiredError(redirect_uri=redirect_uri))
    return _start_login(grant)


def resume(tx_id: str) -> Response:
    ended = (LoginStatus.AUTHENTICATED, LoginStatus.CANCELLED, LoginStatus.FAILED)
    tx = load_transaction(tx_id, request, statuses=ended)
    outcome, params = tx.status, dict(tx.params)
    ctx = TokenContext.of_login(tx)
    # Each transaction resumes once, even if the browser sends the request twice.
    finished = resume_once(tx)
    db.session.commit()
    if not finished:
        return pages.render(pages.AlreadyResumed())
    grant, redirect_uri, failure = _validate(StoredRequest(params))
    if failure is not None:
        return failure
    if outcome != LoginStatus.AUTHENTICATED:
        return _error(grant.request, AccessDeniedError(redirect_uri=redirect_uri))
    return _issue_code(grant, redirect_uri, ctx)


def validate_request(oauth_request: OAuth2Request) -> tuple[AuthorizationCodeGrant, str]:
    """The grant and redirect URI of a valid authorization request; raises ``OAuth2Error``.
    Also what the PAR endpoint checks a pushed request with."""
    grant = _grant(oauth_request)
    return grant, grant.validate_authorization_request()


# --- steps ---------------------------------------------------------------------------------
def _take_pushed(oauth_request: OAuth2Request) -> dict[str, str] | None:
    """RFC 9126 §4: the pushed parameters; of the request itself only ``client_id`` counts."""
    datalist = oauth_request.payload.datalist
    if len(datalist.get("request_uri", [])) > 1 or len(datalist.get("client_id", [])) > 1:
        return None
    data = oauth_request.payload.data
    return take_pushed_request(data.get("client_id"), data.get("request_uri"))


def _resolve_request_object(oauth_request: OAuth2Request) -> dict[str, str] | Response:
    """The request object's parameters, or the error: at the redirect URI registered for the
    client (named outside, or its only one), else the French page."""
    payload = oauth_request.payload
    client = _server().query_client(payload.client_id)
    if client is None:
        return _error(oauth_request, InvalidRequestError("Invalid parameter: client_id"))
    try:
        return resolve(payload.data, payload.datalist, client)
    except OAuth2Error as error:
        error.redirect_uri = _trusted_redirect_uri(oauth_request)
        return _error(oauth_request, error)


def _validate(oauth_request: OAuth2Request):
    try:
        grant, redirect_uri = validate_request(oauth_request)
    except OAuth2Error as error:
        return None, None, _error(oauth_request, error)
    return grant, redirect_uri, None


def _grant(oauth_request: OAuth2Request) -> AuthorizationCodeGrant:
    """The grant for ``response_type``. Unlike Authlib, a missing one is ``invalid_request``
    (RFC 6749 §4.1.2.1, as Keycloak), and an unsupported one is not quoted back: Authlib puts it
    in ``error_description``, where a non-ASCII value raised a ValueError (a 500)."""
    if AuthorizationCodeGrant.check_authorization_endpoint(oauth_request):
        return _server().get_authorization_grant(oauth_request)
    redirect_uri = _trusted_redirect_uri(oauth_request)
    if not oauth_request.payload.response_type:
        raise InvalidRequestError("Missing parameter: response_type", redirect_uri=redirect_uri)
    raise UnsupportedResponseTypeError("", "Unsupported response_type", redirect_uri=redirect_uri)


def _trusted_redirect_uri(oauth_request: OAuth2Request) -> str | None:
    """Where an error found before the grant may go: only a URI registered for a known client."""
    client = _server().query_client(oauth_request.payload.client_id)
    if client is None:
        return None
    try:
        return AuthorizationCodeGrant.validate_authorization_redirect_uri(oauth_request, client)
    except OAuth2Error:
        return None


def _session_satisfies(oauth_request: OAuth2Request, session: SsoSession) -> bool:
    data = oauth_request.payload.data
    if "login" in prompt_values(oauth_request):
        return False
    max_age = data.get("max_age")
    # OIDC Core §3.1.2.1: ``max_age=0`` is ``prompt=login``, even within the login's second.
    if max_age is not None and (int(max_age) == 0 or epoch() - session.auth_time > int(max_age)):
        return False
    acceptable = acceptable_acrs(data)
    return not acceptable or session.acr in acceptable


def _context_from_session(session: SsoSession) -> TokenContext:
    return TokenContext.of_login(session, sid=session.id)


def _issue_code(grant: AuthorizationCodeGrant, redirect_uri: str, ctx: TokenContext) -> Response:
    if unmet_essential_acr(grant.request.payload.data, ctx.acr):
        # The last guard: the session decision and la mire already kept to the level asked.
        error = UnmetAuthenticationRequirements(redirect_uri=redirect_uri)
        return _error(grant.request, error)
    try:
        status, body, headers = grant.create_authorization_response(redirect_uri, ctx)
    except OAuth2Error as error:
        return _error(grant.request, error)
    except EncryptionKeyUnavailable as error:
        discard_staged()
        db.session.rollback()
        return unencryptable_page(error)
    db.session.commit()
    return _server().handle_response(status, body, headers)


def _start_login(grant: AuthorizationCodeGrant) -> Response:
    params: dict[str, Any] = dict(grant.request.payload.data.items())
    browser = browser_cookie(request)
    tx = create_transaction(
        grant.client.client_id,
        grant.client.name or grant.client.client_id,
        params,
        acceptable_acrs(params),
        browser,
    )
    db.session.commit()
    response = redirect(url_for("wallet.login_page", tx_id=tx.id))
    set_browser_cookie(response, browser)
    return response


def _error(oauth_request: OAuth2Request, error: OAuth2Error) -> Response:
    """To the client's redirect URI once it is known to be registered; else a French page."""
    error.state = oauth_request.payload.state
    if error.redirect_uri:
        return _server().handle_error_response(oauth_request, error)
    db.session.rollback()
    return pages.render(
        pages.InvalidAuthorizationRequest(
            details=f"{error.error}: {error.description}",
            redirect_check=redirect_check(oauth_request),
        )
    )
