"""Client registration from a declarative description (realm file, ``psc-idp clients add``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from sqlalchemy import select

from psc_idp.extensions import db
from psc_idp.keystore.signing import SUPPORTED_ALGS
from psc_idp.protocol import pairwise
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.client_auth.client_secret_jwt import METHOD as SECRET_JWT
from psc_idp.protocol.client_auth.client_secret_jwt import client_secret, seal_secret
from psc_idp.protocol.encryption import algorithms as encryption
from psc_idp.protocol.models import Client
from psc_idp.protocol.origins import ANY_ORIGIN, SAME_AS_REDIRECTS, parse_origin
from psc_idp.protocol.scopes import DEFAULT_CLIENT_SCOPES, SUPPORTED_SCOPES, unknown
from psc_idp.protocol.secrets import hash_secret

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
#: RFC 8693, at the protected APIs' authorization servers (``psc_idp/api_as``), not at PSC's.
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_TYPES = {
    "authorization_code",
    "refresh_token",
    "client_credentials",
    CIBA_GRANT,
    TOKEN_EXCHANGE_GRANT,
}
DELIVERY_MODES = {"poll", "ping"}
SECRET_METHODS = {"client_secret_basic", "client_secret_post"}
#: Methods whose client has a secret: presented (hashed at rest) or keying an HMAC (sealed).
METHODS_WITH_SECRET = SECRET_METHODS | {SECRET_JWT}
#: An HMAC key shorter than its hash is refused (RFC 7518 §3.2): HS256 needs 32 octets.
MIN_JWT_SECRET_BYTES = 32
LIST_FIELDS = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "response_types",
    "scopes",
    "audiences",
)
CIBA_FIELDS = ("backchannel_token_delivery_mode", "backchannel_client_notification_endpoint")
TLS_FIELDS = (
    "tls_client_auth_subject_dn",
    "tls_client_auth_san_dns",
    "tls_client_certificate_bound_access_tokens",
)
SUBJECT_FIELDS = ("subject_type", "sector_identifier_uri")
#: Request objects (RFC 9101): URLs a request object may be fetched from, and whether every
#: authorization request must carry one.
REQUEST_OBJECT_FIELDS = ("request_uris", "require_signed_request_object")
#: Back- and front-channel logout (OIDC Back-Channel / Front-Channel Logout 1.0).
LOGOUT_URI_FIELDS = ("backchannel_logout_uri", "frontchannel_logout_uri")
LOGOUT_FLAG_FIELDS = ("backchannel_logout_session_required", "frontchannel_logout_session_required")
LOGOUT_FIELDS = (*LOGOUT_URI_FIELDS, *LOGOUT_FLAG_FIELDS)
ALG_FIELDS = (
    "id_token_signed_response_alg",
    "access_token_signed_response_alg",
    "userinfo_signed_response_alg",
    "authorization_signed_response_alg",
)
#: JWE (OIDC Registration §2, JARM §3): alg and enc of the ID token, UserInfo, request objects
#: and authorization responses.
ENCRYPTION_FIELDS = encryption.FIELDS


#: A host (name, IPv4, [IPv6]) and an optional port: nothing else in a logout URI's authority.
PLAIN_NETLOC = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class InvalidClient(ValueError):
    pass


def _check_uri(client_id: str, uri: Any) -> str:
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or not parts.scheme or not parts.netloc or parts.fragment:
        raise InvalidClient(f"{client_id}: {uri!r} is not an absolute URI without fragment")
    return uri


def _list(client_id: str, data: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = data.get(name, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClient(f"{client_id}: {name} must be a list of strings")
    return list(value)


def _web_origins(client_id: str, data: dict[str, Any]) -> list[str]:
    """Keycloak's "Web origins": each ``scheme://host[:port]`` (kept in the form browsers send),
    ``+`` for the redirect URIs' origins (the default), or ``*`` for any (development only)."""
    entries = _list(client_id, data, "web_origins", [SAME_AS_REDIRECTS])
    normal = []
    for entry in entries:
        origin = entry if entry in (SAME_AS_REDIRECTS, ANY_ORIGIN) else parse_origin(entry)
        if origin is None:
            raise InvalidClient(
                f"{client_id}: web_origins: {entry!r} is not scheme://host[:port] (no path), + or *"
            )
        normal.append(origin)
    return list(dict.fromkeys(normal))


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise a client description; raise ``InvalidClient`` with a clear message."""
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 255:
        raise InvalidClient("client_id is required (a string of at most 255 characters)")
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in TOKEN_AUTH_METHODS:
        raise InvalidClient(f"{client_id}: unknown token_endpoint_auth_method {method!r}")
    grant_types = _list(client_id, data, "grant_types", ["authorization_code", "refresh_token"])
    if not set(grant_types) <= GRANT_TYPES:
        raise InvalidClient(
            f"{client_id}: unsupported grant_types {sorted(set(grant_types) - GRANT_TYPES)}"
        )
    if method == "none" and "client_credentials" in grant_types:
        raise InvalidClient(f"{client_id}: a public client cannot use client_credentials")
    normal = {name: _list(client_id, data, name, []) for name in LIST_FIELDS}
    normal["grant_types"] = grant_types
    normal["response_types"] = normal["response_types"] or (
        ["code"] if "authorization_code" in grant_types else []
    )
    normal["scopes"] = normal["scopes"] or list(DEFAULT_CLIENT_SCOPES)
    if unknown(normal["scopes"]):
        raise InvalidClient(
            f"{client_id}: unknown scopes {unknown(normal['scopes'])}"
            f" (known: {' '.join(SUPPORTED_SCOPES)})"
        )
    for name in ("redirect_uris", "post_logout_redirect_uris"):
        normal[name] = [_check_uri(client_id, uri) for uri in normal[name]]
    normal["web_origins"] = _web_origins(client_id, data)
    if "authorization_code" in grant_types and not normal["redirect_uris"]:
        raise InvalidClient(f"{client_id}: authorization_code needs at least one redirect_uri")
    for name in ALG_FIELDS:
        if data.get(name) is not None and data[name] not in SUPPORTED_ALGS:
            raise InvalidClient(f"{client_id}: {name} must be one of {', '.join(SUPPORTED_ALGS)}")
    _check_encryption(client_id, data)
    if method in SECRET_METHODS and not (data.get("secret") or data.get("secret_hash")):
        raise InvalidClient(f"{client_id}: {method} needs a secret")
    if method == SECRET_JWT:
        _check_jwt_secret(client_id, data)
    if method == "private_key_jwt" and not (data.get("jwks") or data.get("jwks_uri")):
        raise InvalidClient(f"{client_id}: private_key_jwt needs jwks or jwks_uri")
    if method == "tls_client_auth":
        _check_tls_identity(client_id, data)
    if CIBA_GRANT in grant_types:
        _check_ciba(client_id, method, data)
    if TOKEN_EXCHANGE_GRANT in grant_types:
        _check_token_exchange(client_id, method, data, normal["audiences"])
    _check_subject_type(client_id, data, normal["redirect_uris"])
    normal["request_uris"] = _request_uris(client_id, data)
    for name in LOGOUT_URI_FIELDS:
        normal[name] = _logout_uri(client_id, name, data.get(name))
    return {**data, **normal, "client_id": client_id, "token_endpoint_auth_method": method}


def _check_encryption(client_id: str, data: dict[str, Any]) -> None:
    for pair in encryption.FIELD_PAIRS:
        for problem in encryption.problems(data, pair):
            raise InvalidClient(f"{client_id}: {problem}")
    for alg_name, _ in encryption.TO_CLIENT:
        if data.get(alg_name) and not (data.get("jwks") or data.get("jwks_uri")):
            raise InvalidClient(f"{client_id}: {alg_name} needs jwks or jwks_uri")


def _request_uris(client_id: str, data: dict[str, Any]) -> list[str]:
    """Each an https URL (http on a loopback host); a fragment is allowed (OIDC Registration
    §2: it may name the content), it is not sent when fetching."""
    uris = _list(client_id, data, "request_uris", [])
    for uri in uris:
        parts = urlsplit(uri)
        loopback = parts.scheme == "http" and parts.hostname in pairwise.LOOPBACK
        if not parts.hostname or not (parts.scheme == "https" or loopback) or len(uri) > 2000:
            raise InvalidClient(
                f"{client_id}: request_uris: {uri!r} is not an https URL (http on localhost only)"
            )
    return list(dict.fromkeys(uris))


def logout_uri_problem(uri: Any) -> str | None:
    """Why ``uri`` cannot receive logouts: an absolute https URL (http on a loopback host, as a
    development RP runs), no fragment (Back-Channel §2.2, Front-Channel §2), a plain host and
    port (the front-channel page names its origin in its Content-Security-Policy)."""
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or not parts.hostname or parts.fragment or len(uri) > 2000:
        return "is not an absolute URL without fragment"
    if not PLAIN_NETLOC.fullmatch(parts.netloc):
        return "has user information or unusual characters in its host"
    loopback = parts.scheme == "http" and parts.hostname in pairwise.LOOPBACK
    if parts.scheme != "https" and not loopback:
        return "is not an https URL (http on localhost only)"
    return None


def _logout_uri(client_id: str, name: str, uri: Any) -> str | None:
    if uri in (None, ""):
        return None
    problem = logout_uri_problem(uri)
    if problem:
        raise InvalidClient(f"{client_id}: {name}: {uri!r} {problem}")
    return uri


def _check_jwt_secret(client_id: str, data: dict[str, Any]) -> None:
    secret = data.get("secret")
    if not (secret or data.get("secret_sealed")):
        raise InvalidClient(f"{client_id}: client_secret_jwt needs a secret")
    if secret and len(str(secret).encode()) < MIN_JWT_SECRET_BYTES:
        raise InvalidClient(
            f"{client_id}: a client_secret_jwt secret has at least {MIN_JWT_SECRET_BYTES} octets"
        )


def _check_subject_type(client_id: str, data: dict[str, Any], redirect_uris: list[str]) -> None:
    """OIDC Core §8.1 and Registration §5, without the network (``upsert_client`` fetches)."""
    subject_type = data.get("subject_type") or pairwise.PUBLIC
    if subject_type not in pairwise.SUBJECT_TYPES:
        raise InvalidClient(f"{client_id}: subject_type is public or pairwise")
    uri = data.get("sector_identifier_uri")
    try:
        if uri and subject_type != pairwise.PAIRWISE:
            raise pairwise.SectorError("sector_identifier_uri is for a pairwise client only")
        if uri:
            pairwise.check_sector_uri(uri)
        elif subject_type == pairwise.PAIRWISE:
            pairwise.redirect_host(redirect_uris)
    except pairwise.SectorError as error:
        raise InvalidClient(f"{client_id}: {error}") from error


def _check_ciba(client_id: str, method: str, data: dict[str, Any]) -> None:
    if method == "none":
        raise InvalidClient(f"{client_id}: a public client cannot use CIBA")
    mode = data.get("backchannel_token_delivery_mode", "poll")
    if mode not in DELIVERY_MODES:
        raise InvalidClient(f"{client_id}: backchannel_token_delivery_mode is poll or ping")
    if mode == "ping":
        _check_uri(client_id, data.get("backchannel_client_notification_endpoint"))


def _check_token_exchange(
    client_id: str, method: str, data: dict[str, Any], audiences: list[str]
) -> None:
    """The CI-SIS chain: the software authenticates with its ORG AUTH_CLI certificate and its
    exchanged tokens are bound to it."""
    if method != "tls_client_auth":
        raise InvalidClient(f"{client_id}: token exchange needs tls_client_auth")
    if not data.get("tls_client_certificate_bound_access_tokens"):
        raise InvalidClient(
            f"{client_id}: token exchange needs tls_client_certificate_bound_access_tokens: true"
        )
    if not audiences:
        raise InvalidClient(f"{client_id}: token exchange needs audiences (the APIs it calls)")


def _check_tls_identity(client_id: str, data: dict[str, Any]) -> None:
    dn = data.get("tls_client_auth_subject_dn")
    if not (dn or data.get("tls_client_auth_san_dns")):
        raise InvalidClient(
            f"{client_id}: tls_client_auth needs tls_client_auth_subject_dn or _san_dns"
        )
    if dn:
        try:
            x509.Name.from_rfc4514_string(dn)
        except ValueError as error:
            message = f"{client_id}: tls_client_auth_subject_dn is not an RFC 4514 name"
            raise InvalidClient(message) from error


def upsert_client(data: dict[str, Any]) -> tuple[Client, bool]:
    """Create or update a client; returns it and whether anything changed."""
    data = validate(data)
    client = db.session.get(Client, data["client_id"]) or Client(client_id=data["client_id"])
    before = client_to_dict(client, with_hash=True) if client.token_endpoint_auth_method else None
    registered = (client.subject_type, client.sector_identifier_uri, client.redirect_uris)
    client.name = data.get("name", "") or ""
    client.token_endpoint_auth_method = data["token_endpoint_auth_method"]
    if client.token_endpoint_auth_method == SECRET_JWT:
        _keep_sealed_secret(client, data)
    else:
        client.secret_sealed = None
        if data.get("secret"):
            client.secret_hash = hash_secret(str(data["secret"]))
        elif data.get("secret_hash"):
            client.secret_hash = data["secret_hash"]
        elif client.token_endpoint_auth_method not in SECRET_METHODS:
            client.secret_hash = None
    for name in LIST_FIELDS:
        setattr(client, name, data[name])
    client.web_origins = data["web_origins"]
    client.jwks = data.get("jwks")
    client.jwks_uri = data.get("jwks_uri")
    for name in (*ALG_FIELDS, *ENCRYPTION_FIELDS):
        setattr(client, name, data.get(name))
    client.tls_client_auth_subject_dn = data.get("tls_client_auth_subject_dn")
    client.tls_client_auth_san_dns = data.get("tls_client_auth_san_dns")
    client.tls_client_certificate_bound_access_tokens = bool(
        data.get("tls_client_certificate_bound_access_tokens", False)
    )
    client.backchannel_token_delivery_mode = data.get("backchannel_token_delivery_mode", "poll")
    client.backchannel_client_notification_endpoint = data.get(
        "backchannel_client_notification_endpoint"
    )
    client.allow_plain_pkce = bool(data.get("allow_plain_pkce", False))
    client.require_pkce = bool(data.get("require_pkce", False))
    _set_subject_type(client, data, registered)
    client.request_uris = data["request_uris"]
    client.require_signed_request_object = bool(data.get("require_signed_request_object", False))
    for name in LOGOUT_URI_FIELDS:
        setattr(client, name, data[name])
    for name in LOGOUT_FLAG_FIELDS:
        setattr(client, name, bool(data.get(name, False)))
    client.dpop_bound_access_tokens = bool(data.get("dpop_bound_access_tokens", False))
    client.enabled = bool(data.get("enabled", True))
    db.session.add(client)
    return client, before != client_to_dict(client, with_hash=True)


def _set_subject_type(client: Client, data: dict[str, Any], registered: tuple) -> None:
    """The sector document is fetched when a pairwise client is registered or its URIs change
    (not at every import of an unchanged realm file)."""
    known = (registered[0], registered[1], list(registered[2] or []))
    client.subject_type = data.get("subject_type") or pairwise.PUBLIC
    client.sector_identifier_uri = data.get("sector_identifier_uri") or None
    uri = client.sector_identifier_uri
    if not uri or known == (client.subject_type, uri, list(client.redirect_uris or [])):
        return
    try:
        pairwise.check_sector_document(uri, list(client.redirect_uris or []))
    except pairwise.SectorError as error:
        raise InvalidClient(f"{client.client_id}: {error}") from error


def _keep_sealed_secret(client: Client, data: dict[str, Any]) -> None:
    """A client_secret_jwt secret is sealed, never hashed (the server signs nothing with it but
    must verify the client's HMAC). A sealed value from an export must open here: it is bound
    to this deployment's app secret and to the client id."""
    client.secret_hash = None
    secret = data.get("secret")
    if secret:
        if client.secret_sealed and _opens(client) == str(secret):
            return  # the same secret: keep its sealed form (a realm import changes nothing)
        client.secret_sealed = seal_secret(client.client_id, str(secret))
        return
    client.secret_sealed = data["secret_sealed"]
    if _opens(client) is None:
        raise InvalidClient(
            f"{client.client_id}: secret_sealed does not open with this deployment's app secret"
            " (give the secret itself)"
        )


def _opens(client: Client) -> str | None:
    try:
        return client_secret(client)
    except ValueError:
        return None


def client_to_dict(client: Client, with_hash: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_id": client.client_id,
        "name": client.name or "",
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    }
    for name in LIST_FIELDS:
        data[name] = list(getattr(client, name) or [])
    data["web_origins"] = list(client.web_origins or [])
    for name in ("jwks", "jwks_uri", *ALG_FIELDS, *ENCRYPTION_FIELDS, *TLS_FIELDS, *CIBA_FIELDS):
        if getattr(client, name):
            data[name] = getattr(client, name)
    if client.subject_type and client.subject_type != pairwise.PUBLIC:
        data["subject_type"] = client.subject_type
    if client.sector_identifier_uri:
        data["sector_identifier_uri"] = client.sector_identifier_uri
    if client.request_uris:
        data["request_uris"] = list(client.request_uris)
    if client.require_signed_request_object:
        data["require_signed_request_object"] = True
    for name in LOGOUT_FIELDS:
        if getattr(client, name):
            data[name] = getattr(client, name)
    if client.dpop_bound_access_tokens:
        data["dpop_bound_access_tokens"] = True
    data["allow_plain_pkce"] = bool(client.allow_plain_pkce)
    data["require_pkce"] = bool(client.require_pkce)
    data["enabled"] = client.enabled is not False
    if with_hash and client.secret_hash:
        data["secret_hash"] = client.secret_hash
    if with_hash and client.secret_sealed:
        data["secret_sealed"] = client.secret_sealed
    return data


def all_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.client_id)))


def remove_client(client_id: str) -> bool:
    client = db.session.get(Client, client_id)
    if client is None:
        return False
    db.session.delete(client)
    return True
