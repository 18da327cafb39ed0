"""JWT Secured Authorization Response Mode (OpenID FAPI JARM, final): the authorization
response, or its error, as one signed ``response`` JWT.

The four modes say how the JWT travels (JARM §2.3): ``query.jwt``, ``fragment.jwt``,
``form_post.jwt``, and ``jwt``, the default for the response type (the query for ``code``).
The JWT holds ``iss``, ``aud`` (the client), ``exp`` and the parameters the plain response would
carry (``code``, ``state``, ``session_state``, or ``error``, ``error_description``, ``state``);
it is signed with the client's ``authorization_signed_response_alg`` (RS256 by default, §3) and,
when the client registered ``authorization_encrypted_response_alg`` (and ``_enc``), nested in a
JWE to the client's key (§2.2, §3). An encrypted response whose key cannot be had is never sent
in clear: ``EncryptionKeyUnavailable`` reaches the authorization endpoint, which answers a page."""

from __future__ import annotations

from psc_idp.config import current_settings
from psc_idp.protocol.encryption.algorithms import AUTHORIZATION, registered
from psc_idp.protocol.encryption.outgoing import encrypt_to_client
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import sign
from psc_idp.timeutil import epoch

#: Each JWT mode and how its response travels; ``jwt`` is the query for the code flow (§2.3.4).
JWT_MODES = {
    "query.jwt": "query",
    "fragment.jwt": "fragment",
    "form_post.jwt": "form_post",
    "jwt": "query",
}
#: §3: the algorithm when the client registered none.
DEFAULT_ALG = "RS256"
#: §2.1 recommends a lifetime of 10 minutes at most: the JWT is read at once by the client.
LIFETIME = 600


def is_jwt_mode(mode: str | None) -> bool:
    return mode in JWT_MODES


def transport(mode: str) -> str:
    """How the ``response`` parameter of a JWT mode travels: query, fragment or form_post."""
    return JWT_MODES[mode]


def response_jwt(client: Client, params: list[tuple[str, str]]) -> str:
    """The ``response`` parameter: ``params`` (with ``iss`` among them or not) in a JWT for
    ``client``."""
    claims: dict[str, str | int] = {name: value for name, value in params if name != "iss"}
    claims.update(iss=current_settings().issuer, aud=client.client_id, exp=epoch() + LIFETIME)
    alg = client.authorization_signed_response_alg or DEFAULT_ALG
    return protect(client, sign(claims, alg))


def protect(client: Client, jws: str) -> str:
    """The JWT as the client receives it: the JWS itself, or, if the client registered an
    encryption algorithm, the JWS nested in a JWE (``cty: JWT``, signed then encrypted, JARM
    §2.2). Raises ``EncryptionKeyUnavailable``."""
    choice = registered(client, AUTHORIZATION)
    if choice is None:
        return jws
    return encrypt_to_client(client, choice, jws.encode("ascii"), nested=True)
