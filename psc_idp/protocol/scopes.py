"""The scope catalogue: every scope PSC advertises, and what each adds to the tokens, UserInfo and
introspection, as Keycloak's client scopes (and their protocol mappers) do.

A scope is granted when the realm grants it to every request (``default_scopes``, Keycloak's
default client scopes) or when it is requested and allowed for the client (its ``scopes``, the
optional client scopes). Keycloak leaves some scopes out of the ``scope`` string of tokens
(``include.in.token.scope: false``): ``basic``, ``acr``, ``roles``, ``web-origins``. They are
still granted, so their claims are there.

``basic`` and ``acr`` name claims every PSC token carries anyway (``sub``, ``auth_time``,
``acr``): PSC's token shape (psc-reference §4) is built by ``protocol.claims``; the catalogue
adds what the other scopes give on top of it. Introspection answers with the access token's
claims, so what a scope adds to the access token is in introspection too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from psc_idp.directory.userinfo import display_names
from psc_idp.protocol.origins import allowed_origins

ID_TOKEN = "id_token"
ACCESS_TOKEN = "access_token"
USERINFO = "userinfo"
ALL_TARGETS = frozenset({ID_TOKEN, ACCESS_TOKEN, USERINFO})
#: Keycloak's default realm roles; every user has them (``offline_access`` lets a client ask
#: for an offline token).
REALM_ROLES = ("default-roles-esante-wallet", "offline_access", "uma_authorization")
#: Longest part of ``error_description`` that names scopes.
MAX_NAMED = 200

Claims = Callable[["Subject"], dict[str, Any]]


@dataclass(frozen=True)
class Subject:
    """Whom claims are about: a practitioner, or a client acting for itself (no practitioner)."""

    practitioner: Any | None
    client: Any


@dataclass(frozen=True)
class ClientScope:
    name: str
    description: str
    #: Listed in the ``scope`` of tokens and of the token response.
    in_token_scope: bool = True
    #: Where its claims go (Keycloak mappers' "add to ID token / access token / userinfo").
    targets: frozenset[str] = frozenset()
    claims: Claims | None = None


def _profile(subject: Subject) -> dict[str, Any]:
    person = subject.practitioner
    if person is None:
        return {}
    given, family = display_names(person)
    return {
        "name": " ".join(part for part in (given, family) if part),
        "given_name": given,
        "family_name": family,
        "preferred_username": person.national_id,
    }


def _email(subject: Subject) -> dict[str, Any]:
    # PSC does not verify contact data: ``email_verified`` is false (psc-reference §5).
    person = subject.practitioner
    claims: dict[str, Any] = {"email": person.email} if person is not None and person.email else {}
    return {**claims, "email_verified": False}


def _phone(subject: Subject) -> dict[str, Any]:
    person = subject.practitioner
    if person is None or not person.phone:
        return {}
    return {"phone_number": person.phone, "phone_number_verified": False}


def _address(subject: Subject) -> dict[str, Any]:
    # Keycloak's address mapper reads the user's own postal address; the directory holds only
    # practice addresses (sectoral claims), so the claim is present and empty, as Keycloak's.
    return {"address": {}} if subject.practitioner is not None else {}


def _roles(subject: Subject) -> dict[str, Any]:
    return {"realm_access": {"roles": list(REALM_ROLES)}}


def _web_origins(subject: Subject) -> dict[str, Any]:
    # Keycloak's allowed-origins: the web origins, "+" expanded to the redirect URIs' origins.
    client = subject.client
    origins = allowed_origins(client) if getattr(client, "web_origins", None) else []
    return {"allowed-origins": origins} if origins else {}


def _microprofile(subject: Subject) -> dict[str, Any]:
    person = subject.practitioner
    username = person.national_id if person is not None else ""
    if person is None:
        username = f"service-account-{subject.client.client_id}"
    return {"upn": username, "groups": list(REALM_ROLES)}


TOKENS = frozenset({ID_TOKEN, ACCESS_TOKEN})
AT_ONLY = frozenset({ACCESS_TOKEN})
NO_CLAIM = "no claim of its own"

#: PSC's 20 scopes, in the order its discovery lists them.
CATALOGUE: dict[str, ClientScope] = {
    scope.name: scope
    for scope in (
        ClientScope("openid", "OpenID Connect: an ID token, UserInfo"),
        ClientScope("microprofile-jwt", "upn, groups", targets=TOKENS, claims=_microprofile),
        ClientScope("rpps", "PSC: the sectoral claims in UserInfo, as scope_all"),
        ClientScope("referentiel", f"PSC: {NO_CLAIM}"),
        ClientScope(
            "web-origins",
            "allowed-origins: the client's web origins",
            in_token_scope=False,
            targets=AT_ONLY,
            claims=_web_origins,
        ),
        ClientScope("basic", "sub, auth_time (in every PSC token)", in_token_scope=False),
        ClientScope("identity", f"PSC: a default scope, {NO_CLAIM}"),
        ClientScope("acr", "acr (in every PSC token)", in_token_scope=False),
        ClientScope("offline_access", "an offline refresh token (typ Offline)"),
        ClientScope("eidas1", f"PSC: {NO_CLAIM}"),
        ClientScope(
            "profile",
            "name, given_name, family_name, preferred_username",
            targets=ALL_TARGETS,
            claims=_profile,
        ),
        ClientScope("roles", "realm_access", in_token_scope=False, targets=AT_ONLY, claims=_roles),
        ClientScope("email", "email, email_verified", targets=ALL_TARGETS, claims=_email),
        ClientScope("scope_all", "PSC: the sectoral claims in UserInfo"),
        ClientScope(
            "phone", "phone_number, phone_number_verified", targets=ALL_TARGETS, claims=_phone
        ),
        ClientScope("interop", f"PSC: {NO_CLAIM}"),
        ClientScope("scope_1", f"PSC: {NO_CLAIM}"),
        ClientScope("address", "address", targets=ALL_TARGETS, claims=_address),
        ClientScope("scope_2", f"PSC: {NO_CLAIM}"),
        ClientScope("eidas2", f"PSC: {NO_CLAIM}"),
    )
}
SUPPORTED_SCOPES = list(CATALOGUE)
#: What a client may ask for unless its registration says otherwise: every scope, so that
#: libraries at their defaults log in (Spring Security asks for all of ``scopes_supported``
#: when none is configured); none adds more than ``scope_all`` already gives.
DEFAULT_CLIENT_SCOPES = list(SUPPORTED_SCOPES)


def unknown(scopes: Iterable[str]) -> list[str]:
    return [scope for scope in dict.fromkeys(scopes) if scope not in CATALOGUE]


def invalid_scopes(names: Iterable[str]) -> InvalidScopeError:
    """Keycloak's ``Invalid scopes: …``, naming them as far as ``error_description`` allows
    (printable ASCII; Authlib raises on anything else)."""
    shown = " ".join(names)[:MAX_NAMED]
    if invalid_error_characters(shown):
        shown = "(unprintable scope)"
    return InvalidScopeError(f"Invalid scopes: {shown}")


def check_known(scope: str | None) -> None:
    """Every requested scope is in the catalogue; else ``invalid_scope`` naming the others."""
    strangers = unknown((scope or "").split())
    if strangers:
        raise invalid_scopes(strangers)


def grant(requested: str | None, allowed: Iterable[str], defaults: Iterable[str]) -> str:
    """The granted scope string: the requested scopes (each known and allowed for the client,
    else ``invalid_scope``), then the realm's default scopes."""
    names = (requested or "").split()
    check_known(" ".join(names))
    allowed = set(allowed)
    refused = [name for name in dict.fromkeys(names) if name not in allowed]
    if refused:
        raise invalid_scopes(refused)
    return " ".join(dict.fromkeys([*names, *defaults]))


def shown(scope: str) -> str:
    """The ``scope`` of a token: granted scopes that Keycloak lists there."""
    names = scope.split()
    return " ".join(n for n in names if n not in CATALOGUE or CATALOGUE[n].in_token_scope)


def effective(scope: str, defaults: Iterable[str]) -> set[str]:
    """Scopes whose claims apply: the granted ones and the realm's defaults (Keycloak applies
    default client scopes to every token, a narrowed refresh included)."""
    return {*scope.split(), *defaults}


def claims_for(target: str, scopes: Iterable[str], subject: Subject) -> dict[str, Any]:
    """What the granted ``scopes`` add to ``target``, in catalogue order."""
    granted = set(scopes)
    claims: dict[str, Any] = {}
    for scope in CATALOGUE.values():
        if scope.name in granted and scope.claims is not None and target in scope.targets:
            claims.update(scope.claims(subject))
    return claims


def is_offline(scope: str) -> bool:
    return "offline_access" in scope.split()
