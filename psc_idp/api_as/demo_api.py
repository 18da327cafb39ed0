"""The demo API (audience ``demo-api``, scope ``demo``): what an editor compares its own API
against. ``/demo-api/me`` accepts only a token of its authorization server, for its audience,
presented with the certificate it is bound to, and answers who calls: the professional, the
situation d'exercice, the software."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from psc_idp.api_as.apis import find_api
from psc_idp.api_as.verify import TokenRefused, userinfo_of, verified_api_token
from psc_idp.http.errors import ErrorPolicy, register_policy
from psc_idp.protocol.userinfo import bearer_error, presented_token
from psc_idp.protocol.views import oauth_error

AUDIENCE = "demo-api"
SCOPE = "demo"

bp = Blueprint("demo_api", __name__)


@bp.get("/me")
def me() -> ResponseReturnValue:
    if find_api(AUDIENCE) is None:
        return oauth_error(404, "invalid_request", "The demo API is not declared in the realm")
    value, failure = presented_token(request)
    if failure is not None:
        return failure
    try:
        claims = verified_api_token(AUDIENCE, value)
        if SCOPE not in str(claims.get("scope", "")).split():
            return bearer_error(403, "insufficient_scope", f"The {SCOPE} scope is required")
        identity = userinfo_of(AUDIENCE, claims)
    except TokenRefused as refusal:
        return bearer_error(401, "invalid_token", refusal.description)
    response = jsonify(
        professionnel={
            key: identity[key]
            for key in ("sub", "SubjectNameID", "given_name", "family_name", "authMode", "acr")
        },
        situation_exercice=identity["situation_exercice"],
        logiciel=claims.get("act", {}),
        client_id=claims.get("azp"),
        scope=claims.get("scope"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/demo-api")
    register_policy(app, ErrorPolicy("/demo-api/", json=True, blueprints=("demo_api",)))
