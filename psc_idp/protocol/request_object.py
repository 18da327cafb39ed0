"""Request objects (RFC 9101, OIDC Core §6): an authorization request signed by the client, sent
by value (``request``) or by reference (``request_uri``, fetched from a URL registered for the
client), at the authorization endpoint and at PAR (RFC 9126 §3).

Checks, in order:

1. one of ``request`` and ``request_uri``, each once;
2. by reference: the URI is one of the client's ``request_uris`` (exact match, so nothing else is
   ever fetched), https (http on a loopback host), fetched without redirects, within
   ``request_uri_timeout`` and ``MAX_OBJECT_BYTES``;
3. encrypted (a JWE, RFC 9101 §6.1): opened with our encryption key (RSA-OAEP or RSA-OAEP-256,
   as the client registered if it did; then required), its payload the signed object;
4. the JWS: RS256, PS256 or ES256 with one of the client's keys (``jwks`` / ``jwks_uri``, as
   ``private_key_jwt``), or HS256/384/512 keyed by the sealed secret of a ``client_secret_jwt``
   client; ``alg: none`` and anything else refused;
5. ``iss`` the client, ``aud`` our issuer, ``exp`` required and at most
   ``request_object_lifespan`` ahead, ``iat``/``nbf`` not older, a ``jti`` accepted once;
6. its parameters: ``client_id`` equal to the one outside, ``response_type`` equal to the one
   outside when there is one, no nested ``request``/``request_uri``.

Only the parameters inside count (RFC 9101 §6.3): those outside are ignored. Errors are
``invalid_request_object`` / ``invalid_request_uri`` (§6.2), raised without a redirect URI: the
caller knows which one is registered."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import jwt
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error

from psc_idp.config import current_settings
from psc_idp.jose_header import MAX_COMPACT_BYTES, is_compact_jwe, unverified_header
from psc_idp.protocol.client_auth.client_secret_jwt import ALGORITHMS as SECRET_ALGS
from psc_idp.protocol.client_auth.client_secret_jwt import METHOD as SECRET_JWT
from psc_idp.protocol.client_auth.client_secret_jwt import MIN_KEY_BYTES, client_secret
from psc_idp.protocol.client_auth.private_key_jwt import ASSERTION_ALGS, PrivateKeyJWT, select_key
from psc_idp.protocol.encryption.incoming import DecryptionRefused, decrypt_request_object
from psc_idp.protocol.models import Client
from psc_idp.protocol.pairwise import LOOPBACK
from psc_idp.protocol.pushed_requests import is_pushed_reference
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch

#: What discovery advertises (``request_object_signing_alg_values_supported``).
SIGNING_ALGS = (*ASSERTION_ALGS, *SECRET_ALGS)
#: RFC 9101 §10.8 names the type; plain JWT (or none) from older clients.
TYPES = frozenset({"oauth-authz-req+jwt", "jwt", "JWT"})
#: Claims every request object carries (RFC 9101 §4 asks for less; CIBA for more).
REQUIRED_CLAIMS = ("iss", "aud", "exp")
#: The JWT's own claims: not authorization parameters.
JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})
NESTED = ("request", "request_uri")
#: A request object by reference is no larger than one by value.
MAX_OBJECT_BYTES = MAX_COMPACT_BYTES
_CHUNK = 4096
LEEWAY = 30
JWT_ERRORS: dict[type[Exception], str] = {
    jwt.InvalidSignatureError: "Invalid request object signature",
    jwt.ExpiredSignatureError: "The request object has expired",
    jwt.ImmatureSignatureError: "The request object is not yet valid",
    jwt.InvalidAudienceError: "Invalid claim: 'aud'",
    jwt.InvalidIssuerError: "Invalid claim: 'iss'",
    jwt.InvalidIssuedAtError: "Invalid claim: 'iat'",
}


class InvalidRequestObjectError(OAuth2Error):
    error = "invalid_request_object"


class InvalidRequestUriError(OAuth2Error):
    error = "invalid_request_uri"


def _invalid(description: str) -> InvalidRequestObjectError:
    return InvalidRequestObjectError(description=description)


def carries_request_object(data: dict[str, str]) -> bool:
    """Whether the request sends a request object (a PAR ``request_uri`` is not one)."""
    return "request" in data or (
        "request_uri" in data and not is_pushed_reference(data["request_uri"])
    )


def resolve(data: dict[str, str], datalist: Any, client: Client) -> dict[str, str]:
    """The authorization parameters of the request object that ``data`` carries for ``client``
    (its ``client_id`` outside). Raises ``OAuth2Error``, without redirect URI."""
    if any(len(datalist.get(name, [])) > 1 for name in NESTED):
        raise InvalidRequestError("Duplicated parameter: request or request_uri")
    if "request" in data and "request_uri" in data:
        raise InvalidRequestError("Only one of request and request_uri may be sent")
    token = data["request"] if "request" in data else fetch(client, data["request_uri"])
    params = parameters_of(verify(opened(token, client), client))
    if params.get("client_id") != data.get("client_id"):
        raise _invalid("The client_id of the request object differs from the request's")
    outside = data.get("response_type")
    if outside is not None and params.get("response_type") != outside:
        raise _invalid("The response_type of the request object differs from the request's")
    return params


# --- by reference ---------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A registered URI answers itself: a redirect could lead anywhere (SSRF)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetchable(uri: str) -> bool:
    """https, or http on a loopback host (development and tests)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def fetch(client: Client, uri: str) -> str:
    """The request object at ``uri``, one of the client's registered ``request_uris``."""
    if uri not in (client.request_uris or []) or not fetchable(uri):
        raise InvalidRequestUriError(description="The request_uri is not registered for the client")
    timeout = float(current_settings().request_uri_timeout)
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_NoRedirect)
    target = urllib.request.Request(  # noqa: S310 (a registered https URL)
        uri.split("#", 1)[0], headers={"Accept": "application/oauth-authz-req+jwt"}
    )
    body = b""
    try:
        with opener.open(target, timeout=timeout) as response:
            # Bounded in size and in time: a server trickling bytes is cut at the deadline.
            for _ in range(MAX_OBJECT_BYTES // _CHUNK + 2):
                chunk = response.read(_CHUNK)
                body += chunk
                if not chunk or len(body) > MAX_OBJECT_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("request_uri too slow")
    except (OSError, ValueError) as error:
        raise InvalidRequestUriError(description="The request_uri could not be fetched") from error
    if len(body) > MAX_OBJECT_BYTES:
        raise InvalidRequestUriError(description="The request object at request_uri is too large")
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as error:
        raise _invalid("The request object is not a JWS") from error


# --- the JWE, then the JWS ---------------------------------------------------------------------
def opened(token: str, client: Client) -> str:
    """The signed request object: ``token`` itself, or the payload of ``token`` encrypted to us.
    A client that registered ``request_object_encryption_alg`` must encrypt (Keycloak)."""
    if is_compact_jwe(token):
        try:
            return decrypt_request_object(token, client)
        except DecryptionRefused as error:
            raise _invalid(str(error)) from error
    if client.request_object_encryption_alg:
        raise _invalid("The request object must be encrypted")
    return token


def verify(
    token: str,
    client: Client,
    algorithms: Collection[str] = SIGNING_ALGS,
    required: Collection[str] = REQUIRED_CLAIMS,
) -> dict[str, Any]:
    """The verified claims of the request object ``token`` signed by ``client`` with one of
    ``algorithms``, each of ``required`` present (CIBA's signed requests ask for more)."""
    try:
        header = unverified_header(token)
    except ValueError as error:
        raise _invalid("The request object is not a JWS") from error
    alg = header.get("alg")
    if header.get("typ", "JWT") not in TYPES:
        raise _invalid("Invalid request object type")
    if alg not in algorithms:
        raise _invalid("Unsupported request object algorithm")
    key = client_key(client, header, alg)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=current_settings().issuer,
            issuer=client.client_id,
            leeway=LEEWAY,
            options={"require": list(required)},
        )
    except jwt.MissingRequiredClaimError as error:
        raise _invalid(f"Missing claim: '{error.claim}'") from error
    except jwt.PyJWTError as error:
        raise _invalid(JWT_ERRORS.get(type(error), "Invalid request object")) from error
    _check_lifespan(claims)
    _check_jti(claims, client.client_id)
    return claims


def client_key(
    client: Client, header: dict[str, Any], alg: Any, what: str = "request object"
) -> Any:
    """The key verifying a JWT of ``client`` (``what`` names it in errors): one of its keys for
    an asymmetric ``alg``, its sealed secret for an HMAC of a ``client_secret_jwt`` client."""
    if alg in ASSERTION_ALGS:
        try:
            keys = PrivateKeyJWT().resolve_client_public_key(client)
            # The raw key: a PyJWK of an RSA key without ``alg`` would allow RS256 only.
            return select_key(keys, header).key
        except InvalidClientError as error:
            # Its description may quote the header's kid: not repeated to the client.
            raise _invalid(f"No usable client key for the {what}") from error
    if alg in SECRET_ALGS and client.token_endpoint_auth_method == SECRET_JWT:
        try:
            secret = client_secret(client).encode()
        except ValueError as error:
            raise _invalid("Client secret is not usable") from error
        if len(secret) < MIN_KEY_BYTES[alg]:
            raise _invalid(f"The client secret is too short for the {what} algorithm")
        return secret
    raise _invalid(f"Unsupported {what} algorithm")


def _check_lifespan(claims: dict[str, Any]) -> None:
    lifespan = int(current_settings().request_object_lifespan)
    moment = epoch()
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _invalid(f"Invalid claim: '{name}'")
    if claims["exp"] > moment + lifespan + LEEWAY:
        raise _invalid("The request object expires too far in the future")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and value < moment - lifespan - LEEWAY:
            raise _invalid(f"Invalid claim: '{name}'")


def _check_jti(claims: dict[str, Any], client_id: str) -> None:
    jti = claims.get("jti")
    if jti is None:
        return
    if not isinstance(jti, str) or not jti:
        raise _invalid("Invalid claim: 'jti'")
    # Spent once seen, on every instance (psc_idp.replay), until it could expire anyway.
    if not accept_once(f"request-object\0{client_id}\0{jti}", int(claims["exp"]) + LEEWAY):
        raise _invalid("The request object has already been used")


def parameters_of(claims: dict[str, Any]) -> dict[str, str]:
    """The authorization parameters, as strings: ``max_age`` may be a number and ``claims`` an
    object (OIDC Core §6.1)."""
    params: dict[str, str] = {}
    for name, value in claims.items():
        if name in JWT_CLAIMS:
            continue
        if name in NESTED:
            raise _invalid("A request object cannot carry request or request_uri")
        if isinstance(value, str):
            params[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            params[name] = str(value)
        elif name == "claims" and isinstance(value, dict):
            params[name] = json.dumps(value, separators=(",", ":"))
        else:
            raise _invalid("A request object parameter has a value of the wrong type")
    return params
