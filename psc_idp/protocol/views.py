"""HTTP routes of the protocol, at PSC's paths (Keycloak realm ``esante-wallet``).

``protocol`` lives under the issuer; ``authorization`` under the wallet front end, which PSC
advertises as its authorization endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from psc_idp.config import Settings, current_settings
from psc_idp.http import published
from psc_idp.http.errors import ErrorPolicy, register_policy
from psc_idp.http.prepared import Published, published_routes
from psc_idp.protocol import authorize as authorization_flow
from psc_idp.protocol import cors, direct
from psc_idp.protocol.discovery import metadata_document
from psc_idp.protocol.dpop import binding as dpop
from psc_idp.protocol.keycloak_errors import MISSING_GRANT_TYPE
from psc_idp.protocol.logout import logout_response, upstream_logout_done
from psc_idp.protocol.tokens import signing_keys
from psc_idp.protocol.userinfo import userinfo_response

protocol = Blueprint("protocol", __name__)
authorization = Blueprint("authorization", __name__)
cors.init_blueprint(protocol, cors.PROTOCOL_RULES)

TOKEN_PARAMS = [
    "grant_type",
    "code",
    "redirect_uri",
    "refresh_token",
    "client_id",
    "client_secret",
    "code_verifier",
    "scope",
    "client_assertion",
    "client_assertion_type",
    "token",
    "token_type_hint",
]
FORM = "application/x-www-form-urlencoded"


def _server():
    return current_app.extensions["psc_authorization_server"]


def oauth_error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _guard_form_post() -> Response | None:
    """What every form-encoded protocol POST must respect before Authlib sees it."""
    if request.mimetype != FORM:
        return oauth_error(400, "invalid_request", "Content-Type must be " + FORM)
    form = request.form
    for name, values in form.lists():
        if len(values) > 1 and name in TOKEN_PARAMS:
            return oauth_error(400, "invalid_request", f"Duplicated parameter: {name}")
    basic = request.headers.get("Authorization", "").lower().startswith("basic ")
    in_body = "client_secret" in form or "client_assertion" in form
    if basic and in_body:
        return oauth_error(400, "invalid_request", "More than one client authentication method")
    return None


def _require_grant_type() -> Response | None:
    # RFC 6749 §5.2: a missing parameter is invalid_request (Authlib would answer
    # unsupported_grant_type to a request without grant_type), in Keycloak's words.
    if not request.form.get("grant_type"):
        return oauth_error(400, "invalid_request", MISSING_GRANT_TYPE)
    return None


# --- issuer routes ---------------------------------------------------------------------------
@protocol.get("/")
def realm_info() -> ResponseReturnValue:
    settings = current_settings()
    return jsonify(
        realm=settings.realm,
        **{
            "token-service": f"{settings.issuer}/protocol/openid-connect",
            "account-service": f"{settings.wallet_base}/",
            "tokens-not-before": 0,
        },
    )


@protocol.get("/.well-known/openid-configuration")
@protocol.get("/.well-known/wallet-openid-configuration")
def discovery() -> ResponseReturnValue:
    return published.answer(metadata_document(current_settings()), request)


@protocol.get("/protocol/openid-connect/certs")
def jwks() -> ResponseReturnValue:
    return published.answer(_jwks(signing_keys()), request)


def _jwks(signing) -> published.Document:
    document = signing.jwks_document()
    return published.Document(document.body, document.etag)


@protocol.route("/protocol/openid-connect/auth", methods=["GET", "POST"])
def authorize_keycloak_path() -> ResponseReturnValue:
    return authorization_flow.authorize()


@protocol.post("/protocol/openid-connect/token")
def token() -> ResponseReturnValue:
    refused = _guard_form_post() or _require_grant_type() or dpop.check_token_request()
    return refused or dpop.add_nonce(_server().create_token_response())


@protocol.post("/protocol/openid-connect/token/introspect")
def introspect() -> ResponseReturnValue:
    return _guard_form_post() or _server().create_endpoint_response("introspection")


@protocol.post("/protocol/openid-connect/revoke")
def revoke() -> ResponseReturnValue:
    return _guard_form_post() or _server().create_endpoint_response("revocation")


@protocol.post("/protocol/openid-connect/ext/par/request")
def pushed_authorization_request() -> ResponseReturnValue:
    return _guard_form_post() or _server().create_endpoint_response("pushed_authorization")


@protocol.post("/protocol/openid-connect/ext/ciba/auth")
def backchannel_authentication() -> ResponseReturnValue:
    return _guard_form_post() or _server().create_endpoint_response("backchannel_authentication")


@protocol.route("/protocol/openid-connect/userinfo", methods=["GET", "POST"])
def userinfo() -> ResponseReturnValue:
    return userinfo_response(request)


@protocol.route("/protocol/openid-connect/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    return logout_response(request)


@protocol.get("/protocol/openid-connect/logout/upstream")
def logout_upstream() -> ResponseReturnValue:
    """Back from another provider's logout (FI Tiers): the logout finishes here."""
    return upstream_logout_done(request)


@protocol.errorhandler(HTTPException)
def protocol_http_error(error: HTTPException) -> Response:
    """404, 405, 413… on protocol paths answer in JSON, like the rest of the protocol."""
    return oauth_error(error.code or 400, "invalid_request", error.name)


# --- wallet-hosted authorization endpoint ----------------------------------------------------
@authorization.route("/auth", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    return authorization_flow.authorize()


@authorization.get("/auth/resume/<tx_id>")
def resume(tx_id: str) -> ResponseReturnValue:
    return authorization_flow.resume(tx_id)


#: Endpoints under the issuer that a browser visits: they answer pages.
BROWSER_ENDPOINTS = ("/protocol/openid-connect/auth", "/protocol/openid-connect/logout")


def register(app: Flask, settings: Settings) -> None:
    issuer_path = urlsplit(settings.issuer).path
    app.register_blueprint(protocol, url_prefix=issuer_path)
    # The same documents as the views above, answered before Flask (psc_idp/http/prepared.py).
    routes = published_routes(app)
    signing = app.extensions["psc_signing_keys"]
    for name in ("openid-configuration", "wallet-openid-configuration"):
        routes[f"{issuer_path}/.well-known/{name}"] = Published(
            "protocol.discovery", lambda: metadata_document(settings)
        )
    routes[f"{issuer_path}/protocol/openid-connect/certs"] = Published(
        "protocol.jwks", lambda: _jwks(signing)
    )
    direct.register(app)  # UserInfo and introspection, their plain case before Flask too
    register_policy(
        app,
        ErrorPolicy(
            issuer_path + "/", json=True, pages=BROWSER_ENDPOINTS, blueprints=("protocol",)
        ),
    )
    # Served under the wallet, whose pages' policy it shares.
    app.register_blueprint(authorization, url_prefix=urlsplit(settings.wallet_base).path)
