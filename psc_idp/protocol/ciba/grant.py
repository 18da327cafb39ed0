"""The CIBA grant at the token endpoint (CIBA Core §10–11), for poll and ping clients:
``grant_type=urn:openid:params:grant-type:ciba&auth_req_id=…``. Tokens are issued once; the
answers while waiting are PSC's (Keycloak's) exact errors."""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628.errors import (
    AuthorizationPendingError,
    ExpiredTokenError,
    SlowDownError,
)
from sqlalchemy import bindparam

from psc_idp.extensions import db
from psc_idp.prepared_load import PreparedLoad
from psc_idp.protocol.ciba import approval
from psc_idp.protocol.ciba.approval import CibaStatus
from psc_idp.protocol.ciba.endpoint import GRANT_TYPE
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.models import Client
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.staged import stage

#: PSC's description, word for word (psc-reference §6).
PENDING = (
    "The authorization request is still pending as the end-user hasn't yet been authenticated."
)


class CibaGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(GRANT_TYPE):
            raise UnauthorizedClientError("Client not allowed to use CIBA")
        auth_req_id = self.request.form.get("auth_req_id")
        if not auth_req_id:
            raise InvalidRequestError("Missing parameter: auth_req_id")
        request = find_request(client, auth_req_id)
        if request is None:
            raise InvalidGrantError("Invalid auth_req_id")
        self.request.client = client
        self.request.credential = request

    def create_token_response(self):
        request: CibaRequest = self.request.credential
        client = self.request.client
        waiting = waiting_answer(client, request)
        if waiting is not None:
            raise waiting
        if client.backchannel_token_delivery_mode != "ping":
            approval.record_poll(request)
        status = approval.state(request)
        if status == CibaStatus.DENIED:
            raise AccessDeniedError("The end-user denied the authorization request")
        if status == CibaStatus.EXPIRED:
            raise ExpiredTokenError("The authorization request has expired")
        login = approval.login_of(request)
        if status != CibaStatus.APPROVED or login is None:
            raise InvalidGrantError("Invalid auth_req_id")
        # approved → issued once, with the tokens' rows (staged: after the signatures).
        stage(lambda: _issue_once(request))
        token = self.generate_token(
            # A user session without a browser (Keycloak opens one for CIBA), opened when the
            # login was recorded: its id is the ``session_state``; who, how and when are the
            # login's, whatever the means.
            user=TokenContext.of_login(login),
            scope=request.scope,
            include_refresh_token=client.check_grant_type("refresh_token"),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


_BY_HASH = PreparedLoad(CibaRequest, lambda t: t.c.auth_req_hash == bindparam("auth_req_hash"))


def find_request(client: Client, auth_req_id: str) -> CibaRequest | None:
    """The client's request named ``auth_req_id`` (None for another client's)."""
    request = _BY_HASH.first(db.session, auth_req_hash=hash_secret(auth_req_id[:512], "ciba"))
    if request is None or request.client_id != client.client_id:
        return None
    return request


def waiting_answer(client: Client, request: CibaRequest) -> OAuth2Error | None:
    """While the professional has not answered: the poll recorded (poll clients) and the
    error to send: ``slow_down`` for a poll sooner than the interval, else
    ``authorization_pending``. None, with nothing recorded, once the request is decided (or
    expired): its answer is the grant's."""
    polled = client.backchannel_token_delivery_mode != "ping"
    if polled and approval.too_soon(request):
        approval.record_poll(request, slowed=True)
        return SlowDownError("Too early to poll: wait interval seconds")
    approval.settle(request)
    if approval.state(request) != CibaStatus.PENDING:
        return None  # nothing recorded: the grant's answer records the poll
    if polled:
        # Recorded after the reads: one write, committed as the answer is given (a commit
        # before them would have made the request's row read again).
        approval.record_poll(request)
    return AuthorizationPendingError(PENDING)


def _issue_once(request: CibaRequest) -> None:
    """Of two concurrent polls of an approved request, only one gets the tokens."""
    if not approval.mark_issued(request):
        raise InvalidGrantError("Invalid auth_req_id")
