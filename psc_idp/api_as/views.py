"""Routes of each protected API's authorization server, under ``/api-as/realms/<audience>``:
metadata, JWKS, token (exchange only), userinfo. An audience not declared answers 404."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, NotFound

from psc_idp.api_as.apis import find_api
from psc_idp.api_as.issuer import OIDC, PREFIX, metadata
from psc_idp.api_as.keys import api_signing_keys
from psc_idp.api_as.models import ProtectedApi
from psc_idp.api_as.verify import TokenRefused, userinfo_of, verified_api_token
from psc_idp.config import current_settings
from psc_idp.http import published
from psc_idp.http.errors import ErrorPolicy, register_policy
from psc_idp.protocol.userinfo import bearer_error, presented_token
from psc_idp.protocol.views import FORM, oauth_error

bp = Blueprint("api_as", __name__)

#: Parameters a token request carries once (RFC 8693 allows several ``audience``, ``resource``).
SINGLE_PARAMS = (
    "grant_type",
    "client_id",
    "scope",
    "subject_token",
    "subject_token_type",
    "subject_issuer",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
)


def _api(audience: str) -> ProtectedApi:
    api = find_api(audience)
    if api is None:
        raise NotFound()
    return api


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery(audience: str) -> ResponseReturnValue:
    api = _api(audience)
    return published.answer(
        published.Document.of(metadata(current_settings(), api.audience, api.scopes)), request
    )


@bp.get(f"/{OIDC}/certs")
def jwks(audience: str) -> ResponseReturnValue:
    document = api_signing_keys(_api(audience).audience).jwks_document()
    return published.answer(published.Document(document.body, document.etag), request)


@bp.post(f"/{OIDC}/token")
def token(audience: str) -> ResponseReturnValue:
    _api(audience)
    if request.mimetype != FORM:
        return oauth_error(400, "invalid_request", "Content-Type must be " + FORM)
    for name, values in request.form.lists():
        if len(values) > 1 and name in SINGLE_PARAMS:
            return oauth_error(400, "invalid_request", f"Duplicated parameter: {name}")
    if not request.form.get("grant_type"):
        return oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
    return current_app.extensions["psc_api_authorization_server"].create_token_response()


@bp.route(f"/{OIDC}/userinfo", methods=["GET", "POST"])
def userinfo(audience: str) -> ResponseReturnValue:
    """The professional and the situation d'exercice of the token, for the API to read."""
    api = _api(audience)
    value, failure = presented_token(request)
    if failure is not None:
        return failure
    try:
        claims = verified_api_token(api.audience, value)
        document = userinfo_of(api.audience, claims)
    except TokenRefused as refusal:
        return bearer_error(401, "invalid_token", refusal.description)
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def api_as_http_error(error: HTTPException) -> Response:
    return oauth_error(error.code or 400, "invalid_request", error.name)


def register(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix=f"{PREFIX}/<audience>")
    register_policy(app, ErrorPolicy(PREFIX + "/", json=True, blueprints=("api_as",)))
