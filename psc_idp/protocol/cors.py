"""CORS (Fetch standard §3.2) on the protocol endpoints a browser application calls, as Keycloak
does it (``DefaultCors``, ``UserInfoEndpoint``, ``TokenEndpoint``):

- the published documents (discovery under both names, JWKS, realm info) answer any origin;
- token, introspection, revocation, PAR, CIBA and logout answer an origin among the web origins
  of the client the request names; UserInfo those of the access token's client, and any origin
  while the token is not known (its errors say nothing about anyone);
- an allowed origin is echoed with ``Access-Control-Allow-Credentials: true``, errors included,
  so that a single-page application can read ``error`` and ``WWW-Authenticate``;
- preflights are answered without looking at the client (a preflight carries no credentials);
  the actual request is then checked.

Only a serialized origin (``scheme://host[:port]``) is ever echoed: ``Origin: null`` (sandboxed
frames, ``file:``, some redirects) is never allowed, not even by ``*``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from psc_idp.extensions import db
from psc_idp.protocol.client_auth.secret_basic import basic_credentials
from psc_idp.protocol.models import Client
from psc_idp.protocol.origins import ANY_ORIGIN, allowed_origins, parse_origin
from psc_idp.protocol.tokens import decode_id_token_hint, find_active_access_token
from psc_idp.protocol.userinfo import presented_token

#: Request headers a browser application may send (beyond the CORS-safelisted ones).
ALLOW_HEADERS = "Authorization, Content-Type, DPoP, Accept, X-Requested-With"
#: Response headers it may read beyond the safelisted ones: the Bearer or DPoP challenge
#: (RFC 6750 §3, RFC 9449 §7.1) and the DPoP server nonce (RFC 9449 §8).
EXPOSE_HEADERS = "WWW-Authenticate, DPoP-Nonce"
#: How long a browser may cache a preflight answer (Keycloak: one hour).
MAX_AGE = "3600"

OriginSource = Callable[[], Iterable[str] | None]


# --- the request ---------------------------------------------------------------------------
def request_origin() -> str | None:
    """The request's ``Origin`` when it is one serialized origin, as browsers send it."""
    values = request.headers.getlist("Origin")
    if len(values) != 1:
        return None
    return values[0] if parse_origin(values[0]) == values[0] else None


# --- whose origins ---------------------------------------------------------------------------
def any_origin() -> list[str]:
    return [ANY_ORIGIN]


def _client_origins(client_id: object) -> list[str] | None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 255:
        return None
    if "\x00" in client_id:  # PostgreSQL refuses a NUL in a query; no client id has one
        return None
    client = db.session.get(Client, client_id)
    if client is None or not client.enabled:
        return None
    return allowed_origins(client)


def requesting_client_origins() -> list[str] | None:
    """Web origins of the client the request names (Basic user or ``client_id``). The client is
    not authenticated here: what it lets a page read is only the answer to that page's own
    request, which carries no cookie."""
    credentials = basic_credentials(request.headers)
    client_id = credentials[0] if credentials else request.form.get("client_id")
    return _client_origins(client_id)


def token_client_origins() -> list[str] | None:
    """UserInfo: the access token's client; any origin while the token is not known."""
    value, _ = presented_token(request)
    found = find_active_access_token(value) if value else None
    if found is None:
        return any_origin()
    client = found[1].client
    return allowed_origins(client) if client is not None else None


def logout_client_origins() -> list[str] | None:
    """Logout: the client of ``id_token_hint``, else ``client_id``."""
    hint = request.values.get("id_token_hint")
    if hint:
        try:
            return _client_origins(decode_id_token_hint(hint).get("azp"))
        except ValueError:
            return None
    return _client_origins(request.values.get("client_id"))


# --- responses -------------------------------------------------------------------------------
def _allows(origins: Iterable[str] | None, origin: str) -> bool:
    listed = set(origins or ())
    return origin in listed or ANY_ORIGIN in listed


def _origins_of(source: OriginSource) -> Iterable[str] | None:
    try:
        return source()
    except HTTPException:  # a body too large or unreadable (413…): no client to speak of
        return None


def add_actual_headers(response: Response, origins: OriginSource) -> Response:
    response.vary.add("Origin")
    origin = request_origin()
    if origin is not None and _allows(_origins_of(origins), origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def preflight_response(methods: tuple[str, ...]) -> Response:
    """Answer to ``OPTIONS``: permissive on the origin, strict on the method."""
    response = Response(status=200)
    response.vary.add("Origin")
    origin = request_origin()
    wanted = (request.headers.get("Access-Control-Request-Method") or "").strip().upper()
    if origin is not None and wanted in methods:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = ", ".join((*methods, "OPTIONS"))
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


#: The issuer blueprint's endpoints a browser calls: their methods and whose origins they answer.
PROTOCOL_RULES: dict[str, tuple[tuple[str, ...], OriginSource]] = {
    "protocol.realm_info": (("GET",), any_origin),
    "protocol.discovery": (("GET",), any_origin),
    "protocol.jwks": (("GET",), any_origin),
    "protocol.token": (("POST",), requesting_client_origins),
    "protocol.introspect": (("POST",), requesting_client_origins),
    "protocol.revoke": (("POST",), requesting_client_origins),
    "protocol.pushed_authorization_request": (("POST",), requesting_client_origins),
    "protocol.backchannel_authentication": (("POST",), requesting_client_origins),
    "protocol.userinfo": (("GET", "POST"), token_client_origins),
    "protocol.logout": (("GET", "POST"), logout_client_origins),
}


def init_blueprint(
    blueprint: Blueprint, rules: dict[str, tuple[tuple[str, ...], OriginSource]]
) -> None:
    """Answer preflights before the view, and add the headers to every answer after it
    (errors included: ``after_request`` also runs on the error handlers' responses)."""

    def preflight() -> Response | None:
        rule = rules.get(request.endpoint or "")
        if request.method != "OPTIONS" or rule is None:
            return None
        return preflight_response(rule[0])

    def actual(response: Response) -> Response:
        rule = rules.get(request.endpoint or "")
        if request.method == "OPTIONS" or rule is None:
            return response
        return add_actual_headers(response, rule[1])

    blueprint.before_request(preflight)
    blueprint.after_request(actual)
