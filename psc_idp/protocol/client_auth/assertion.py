"""What ``private_key_jwt`` and ``client_secret_jwt`` share (OIDC Core §9, RFC 7523 §3): an
assertion read before anything is verified, to name the client whose key verifies it; then the
signature, iss = sub = client_id, one of our audiences, ``exp`` required and not too far ahead,
and a ``jti`` accepted once until the assertion expires.

Both methods carry the same ``client_assertion_type``; the client's registration decides which
one verifies (``registered_for``): the other steps aside, so Authlib's loop over the methods
reaches it whatever their order."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import jwt
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError
from flask import request as flask_request

from psc_idp.config import current_settings
from psc_idp.jose_header import b64url_decode, check_compact, unverified_header
from psc_idp.protocol.models import Client
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The methods that authenticate with an assertion: one of them per client.
ASSERTION_METHODS = frozenset({"private_key_jwt", "client_secret_jwt"})
#: RFC 7523 §3 lets us refuse an ``exp`` unreasonably far ahead: its jti must be kept as long
#: (and a year-33658 ``exp`` overflowed into a 500). A day is far more than client libraries sign.
MAX_ASSERTION_LIFETIME = 24 * 3600
#: Descriptions of PyJWT's refusals (its messages may quote values, which Authlib refuses).
CLAIM_ERRORS: dict[type[Exception], str] = {
    jwt.ExpiredSignatureError: "The client assertion has expired",
    jwt.ImmatureSignatureError: "The client assertion is not yet valid",
    jwt.InvalidAudienceError: "Invalid claim: 'aud'",
    jwt.InvalidIssuerError: "Invalid claim: 'iss'",
    jwt.InvalidIssuedAtError: "Invalid claim: 'iat'",
}
#: Clock skew allowed on ``exp``, ``nbf`` and ``iat``.
LEEWAY = 30
BAD_SIGNATURE = "Invalid client assertion signature"


class BadSignature(InvalidClientError):
    """The assertion's signature does not verify (what a guesser of the key gets)."""


def refuse(description: str) -> InvalidClientError:
    return InvalidClientError(description=description)


class ClientAssertion(ABC):
    """A client-authentication method of Authlib's (``register_client_auth_method``) reading
    ``client_assertion``; subclasses say which algorithms and which key verify it."""

    CLIENT_AUTH_METHOD = ""
    CLIENT_ASSERTION_TYPE = ASSERTION_TYPE
    #: The algorithms this method accepts (``alg: none`` is never among them).
    ALGORITHMS: frozenset[str] = frozenset()

    def __init__(self, leeway: int = LEEWAY) -> None:
        self.leeway = leeway

    def __call__(
        self, query_client: Callable[[str], Client | None], request: OAuth2Request
    ) -> Client | None:
        form = request.form
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            return None  # another method's request
        header, claims = read_unverified(request, assertion)
        # ``sub`` is read before anything is verified: it names the client whose key verifies.
        client_id = claims.get("sub")
        if not isinstance(client_id, str):
            raise refuse("Invalid claim: 'sub'")
        client = query_client(client_id)
        if client is None:
            raise refuse("The client does not exist on this server.")
        method = client.token_endpoint_auth_method
        if method != self.CLIENT_AUTH_METHOD and method in ASSERTION_METHODS:
            return None  # the other assertion method's client
        if not client.check_endpoint_auth_method(self.CLIENT_AUTH_METHOD, "token"):
            raise refuse(f"The client cannot authenticate with method: {self.CLIENT_AUTH_METHOD}")
        if header["alg"] not in self.ALGORITHMS:
            raise refuse(BAD_SIGNATURE)
        _check_dates(claims)
        verified = self.verify_for(client, assertion, header)
        request.client = client
        self.check_jti(verified)
        return client

    @abstractmethod
    def verify_for(self, client: Client, assertion: str, header: dict[str, Any]) -> dict:
        """The verified claims of ``assertion`` for ``client``; raises ``InvalidClientError``."""

    def get_audiences(self) -> list[str]:
        issuer = current_settings().issuer
        return [
            issuer,
            f"{issuer}/protocol/openid-connect/token",
            # RFC 9126 §2: the PAR endpoint's URL is a valid audience too.
            f"{issuer}/protocol/openid-connect/ext/par/request",
            flask_request.base_url,
        ]

    def verify(self, assertion: str, key: Any, alg: str, client_id: str) -> dict:
        """Signature, then the registered claims: iss = sub = client_id, aud one of ours,
        exp required (and not too far ahead), nbf and iat when present."""
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=[alg],
                audience=self.get_audiences(),
                issuer=client_id,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError as error:
            raise BadSignature(description=BAD_SIGNATURE) from error
        except jwt.MissingRequiredClaimError as error:
            raise refuse(f"Missing claim: '{error.claim}'") from error
        except jwt.PyJWTError as error:
            raise refuse(CLAIM_ERRORS.get(type(error), "Invalid client assertion")) from error
        if claims["exp"] > epoch() + MAX_ASSERTION_LIFETIME + self.leeway:
            raise refuse("Client assertion expires too far in the future")
        if claims.get("sub") != claims.get("iss"):
            raise refuse("Issuer and Subject MUST match.")
        return claims

    def check_jti(self, claims: dict) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise refuse("Missing JWT ID.")
        # Spent once seen, even when the request then fails (psc_idp.replay).
        if not accept_once(
            f"client-assertion\0{claims['sub']}\0{jti}", int(claims["exp"]) + self.leeway
        ):
            raise refuse("JWT ID is used before.")


def read_unverified(request: OAuth2Request, assertion: str) -> tuple[dict, dict]:
    """Header and claims of ``assertion``, unverified, read once per request (both assertion
    methods may look at it)."""
    cached = getattr(request, "_psc_assertion", None)
    if cached is not None and cached[0] == assertion:
        return cached[1], cached[2]
    try:
        header = unverified_header(assertion)  # bounded before anything decodes it
        claims = claims_of(assertion)
    except ValueError as error:
        raise refuse("Invalid JWT assertion.") from error
    if not isinstance(header.get("alg"), str):
        raise refuse(BAD_SIGNATURE)
    request._psc_assertion = (assertion, header, claims)
    return header, claims


def claims_of(assertion: str) -> dict[str, Any]:
    """The payload as an object, unverified (after ``check_compact``). Raises ``ValueError``."""
    check_compact(assertion)
    claims = json.loads(b64url_decode(assertion.split(".")[1]))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


def _check_dates(claims: dict[str, Any]) -> None:
    # PyJWT's checks of these types vary across its versions; ours do not.
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise refuse(f"Invalid claim: '{name}'")
