"""The backchannel authentication endpoint (CIBA Core §7), at PSC's path
``{issuer}/protocol/openid-connect/ext/ciba/auth``. Checks, in order: client authentication and
grant type, the signed request if there is one (``signed_request``: its parameters replace the
form's), duplicates, scope, the one hint (``login_hint``, ``id_token_hint`` or
``login_hint_token``), the user, binding message, channel and acr, requested expiry, ping token,
then the means on that channel.

The request is a login without a browser (``login.headless``): the means registered for the
channel starts it and reports how it ended; this module knows no channel by name."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.endpoint import Endpoint, EndpointRequest
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidRequestError,
    OAuth2Error,
    UnauthorizedClientError,
)

from psc_idp import audit, lockout, rate_limits
from psc_idp.audit import events
from psc_idp.config import current_settings
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.directory.reading import is_active
from psc_idp.extensions import db
from psc_idp.login import headless
from psc_idp.login.binding import binding_code
from psc_idp.login.headless import HeadlessMeans, HeadlessRefused
from psc_idp.observe.metrics import count_ciba
from psc_idp.prepared_sql import insert_new
from psc_idp.protocol.authorize_checks import acceptable_acrs
from psc_idp.protocol.ciba import ping, signed_request
from psc_idp.protocol.ciba.hints import national_id_from_id_token
from psc_idp.protocol.ciba.login_hint_token import national_id_from_login_hint_token
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.secrets import hash_secret
from psc_idp.timeutil import now

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
BINDING_MESSAGE = re.compile(r"^[\w .,:;!?'-]{1,20}$")
SINGLE_VALUED = [
    "scope",
    "login_hint",
    "id_token_hint",
    "login_hint_token",
    "binding_message",
    "acr_values",
    "requested_expiry",
    "channel",
    "client_notification_token",
    "user_code",
]
MAX_REQUESTED_EXPIRY = 600


class UnknownUserIdError(OAuth2Error):
    error = "unknown_user_id"


class InvalidBindingMessageError(OAuth2Error):
    error = "invalid_binding_message"


def refused_by_means(refused: HeadlessRefused) -> AccessDeniedError:
    """CIBA Core §13: ``access_denied`` when the OP denies the request; 403 when the means says
    so (the professional's phone already has as many requests waiting as allowed: approval
    fatigue). ``slow_down`` is a token-endpoint error (§11), not one of this endpoint's."""
    return AccessDeniedError(refused.description, status_code=refused.status)


@dataclass
class BackchannelRequest(EndpointRequest):
    national_id: str = ""
    means: HeadlessMeans | None = None
    values: dict[str, Any] = field(default_factory=dict)


class BackchannelAuthenticationEndpoint(Endpoint):
    ENDPOINT_NAME = "backchannel_authentication"
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_request(self, request: OAuth2Request) -> BackchannelRequest:
        client = self.server.authenticate_client(
            request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME
        )
        request.client = client
        if not client.check_grant_type(GRANT_TYPE):
            raise UnauthorizedClientError("Client not allowed to use CIBA")
        form = request.form
        if signed_request.is_signed(form):
            form = signed_request.authentication_parameters(form, client)
        for name in SINGLE_VALUED:
            if len(form.getlist(name)) > 1:
                raise InvalidRequestError(f"Duplicated parameter: {name}")
        scope = _scope(client, form.get("scope", ""))
        national_id = _national_id(form, client)
        rate_limits.enforce("ciba_national_id", national_id)
        if lockout.is_locked(lockout.PROFESSIONAL, national_id):
            raise AccessDeniedError("The user is temporarily locked: too many failed logins")
        channel = form.get("channel") or headless.default_channel()
        means = headless.means_for(channel)
        if means is None:
            served = " or ".join(headless.served_channels())
            raise InvalidRequestError(f"Invalid parameter: channel ({served})")
        _check_acr(form, channel, means)
        values = {
            "scope": scope,
            "channel": channel,
            "acrs": acceptable_acrs(form),
            "binding_message": _binding_message(form.get("binding_message")),
            "expires_in": _expiry(form.get("requested_expiry")),
            "notification_token": _notification_token(client, form),
        }
        try:
            means.check_headless(national_id)
        except HeadlessRefused as refused:
            raise refused_by_means(refused) from refused
        return BackchannelRequest(request, client, national_id, means, values)

    def create_response(self, validated: BackchannelRequest) -> tuple[int, dict, list]:
        values, client = validated.values, validated.client
        auth_req_id = secrets.token_urlsafe(32)
        settings = current_settings()
        request_id = str(uuid.uuid4())
        try:
            # The login shares the request's id: the means and the professional's pages name it.
            _, reference = headless.begin(
                validated.means,
                login_id=request_id,
                channel=values["channel"],
                client_id=client.client_id,
                client_name=client.name or client.client_id,
                national_id=validated.national_id,
                binding_message=values["binding_message"],
                acceptable_acrs=values["acrs"],
                lifetime=values["expires_in"],
            )
        except HeadlessRefused as refused:
            db.session.commit()  # what the means recorded of its refusal; releases its gate
            count_ciba("refused")
            raise refused_by_means(refused) from refused
        ciba = CibaRequest(
            id=request_id,
            auth_req_hash=hash_secret(auth_req_id, "ciba"),
            client_id=client.client_id,
            national_id=validated.national_id,
            scope=values["scope"],
            binding_message=values["binding_message"],
            channel=values["channel"],
            push_id=reference,
            interval=settings.ciba_interval,
            expires_at=now() + timedelta(seconds=values["expires_in"]),
            # Sealed at rest: both go back to the client with the ping.
            notification_token=ping.sealed(values["notification_token"], ping.TOKEN_PURPOSE),
            ping_auth_req_id=ping.sealed(
                auth_req_id if values["notification_token"] else None, ping.AUTH_REQ_ID_PURPOSE
            ),
        )
        insert_new(ciba, db.session)
        audit.record(
            events.CIBA_REQUESTED,
            validated.national_id,
            client_id=client.client_id,
            outcome="pending",
            channel=values["channel"],
            request=request_id,
        )
        db.session.commit()
        count_ciba("accepted")
        body = {
            "auth_req_id": auth_req_id,
            "expires_in": values["expires_in"],
            "interval": settings.ciba_interval,
        }
        return 200, body, default_json_headers


# --- checks ------------------------------------------------------------------------------------
def _scope(client, requested: str) -> str:
    if "openid" not in requested.split():
        raise InvalidRequestError("scope must contain openid")
    return client.get_allowed_scope(requested)


def _national_id(form, client) -> str:
    hints = [name for name in ("login_hint", "id_token_hint", "login_hint_token") if form.get(name)]
    if len(hints) != 1:
        raise InvalidRequestError(
            "Exactly one of login_hint, id_token_hint or login_hint_token is required"
        )
    try:
        if hints[0] == "id_token_hint":
            named = national_id_from_id_token(form["id_token_hint"])
        elif hints[0] == "login_hint_token":
            named = national_id_from_login_hint_token(form["login_hint_token"], client)
        else:
            named = form["login_hint"]
        national_id = validate_national_id(named)
    except (InvalidNationalId, ValueError) as error:
        raise UnknownUserIdError("Unknown user") from error
    if not is_active(national_id):  # unknown, or no longer active
        raise UnknownUserIdError("Unknown user")
    return national_id


def _binding_message(value: str | None) -> str:
    if value is None or value == "":
        return binding_code()
    if not BINDING_MESSAGE.match(value):
        raise InvalidBindingMessageError("binding_message: at most 20 plain characters")
    return value


def _check_acr(form, channel: str, means: HeadlessMeans) -> None:
    acceptable = acceptable_acrs(form)  # unknown values are voluntary: ignored
    acr = means.headless_acr()
    if acceptable and acr not in acceptable:
        raise InvalidRequestError(f"channel {channel} cannot reach the requested acr_values")


def _expiry(value: str | None) -> int:
    default = current_settings().ciba_request_lifetime
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_REQUESTED_EXPIRY:
        raise InvalidRequestError(f"requested_expiry: 1 to {MAX_REQUESTED_EXPIRY} seconds")
    return int(value)


def _notification_token(client, form) -> str | None:
    token = form.get("client_notification_token")
    if client.backchannel_token_delivery_mode == "ping":
        if not token or len(token) > 1024:
            raise InvalidRequestError("client_notification_token is required in ping mode")
        return token
    return None
