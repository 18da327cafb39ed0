"""The ``claims`` request parameter (OIDC Core §5.5): which claims the client asks for, in the ID
token and at UserInfo, beyond what its scopes give; and ``acr`` asked as an essential claim.

::

    {"id_token": {"acr": {"essential": true, "values": ["eidas2", "eidas3"]},
                  "email": null},
     "userinfo": {"phone_number": {"essential": true}}}

A requested standard claim is added when the directory has a value for it and the client may
have the scope that gives it (its ``scopes``): the parameter names claims, it does not widen
what a client is allowed. Essential or not, a claim without a value is left out, never an error
(§5.5.1). ``acr`` is the exception: asked as essential with ``value`` or ``values``, the login
must end with one of those values exactly (§5.5.1.1), never a silent downgrade; values psc-idp
does not know are ignored (Keycloak), and a request naming none it knows cannot be met."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error

from psc_idp import bounded_json
from psc_idp.protocol import scopes as catalogue

TARGETS = ("userinfo", "id_token")
#: ``{"id_token": {"acr": {"values": [...]}}}`` nests four levels; a ``value`` may hold a
#: small object of its own.
MAX_DEPTH = 6
#: More claims than any relying party asks for; each is looked up in the catalogue.
MAX_CLAIMS = 64
INVALID = "Invalid parameter: claims"


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0: the requested authentication
    (here, an essential ``acr``) cannot be met."""

    error = "unmet_authentication_requirements"


def parse(text: str | None) -> dict[str, dict[str, dict[str, Any] | None]]:
    """The ``userinfo`` and ``id_token`` members, checked; ``{}`` without a parameter. Raises
    ``InvalidRequestError`` for anything malformed; other top-level members are ignored
    (§5.5: not understood, so ignored)."""
    if text is None:
        return {}
    try:
        data = bounded_json.loads(text, max_depth=MAX_DEPTH)
    except ValueError as error:  # not JSON, or nested too deep
        raise InvalidRequestError(INVALID) from error
    if not isinstance(data, dict):
        raise InvalidRequestError(INVALID)
    parsed: dict[str, dict[str, dict[str, Any] | None]] = {}
    count = 0
    for target in TARGETS:
        members = data.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise InvalidRequestError(INVALID)
        for name, request in members.items():
            _check_one(name, request)
        count += len(members)
        parsed[target] = members
    if count > MAX_CLAIMS:
        raise InvalidRequestError(INVALID)
    return parsed


def _check_one(name: str, request: Any) -> None:
    """§5.5.1: ``null``, or an object whose ``essential`` is a boolean and ``values`` an array;
    for ``acr``, the values are strings (they are compared with ours)."""
    if request is None:
        return
    if not isinstance(request, dict):
        raise InvalidRequestError(INVALID)
    if "essential" in request and not isinstance(request["essential"], bool):
        raise InvalidRequestError(INVALID)
    if "values" in request and not isinstance(request["values"], list):
        raise InvalidRequestError(INVALID)
    if name == "acr":
        values = [request.get("value")] if "value" in request else []
        values += request.get("values") or []
        if not all(isinstance(value, str) for value in values):
            raise InvalidRequestError(INVALID)


def acr_request(parsed: dict[str, Any]) -> tuple[list[str], bool]:
    """The ``acr`` values asked for (in both targets) and whether any ask is essential.
    Keycloak reads ``values`` and ``value`` alike; so does psc-idp."""
    values: list[str] = []
    essential = False
    for target in TARGETS:
        request = (parsed.get(target) or {}).get("acr")
        if not isinstance(request, dict):
            continue
        asked = ([request["value"]] if "value" in request else []) + list(
            request.get("values") or []
        )
        if asked and request.get("essential") is True:
            essential = True
        values += asked
    return list(dict.fromkeys(values)), essential


def essential_acrs(data: dict[str, Any], ranking: list[str]) -> list[str] | None:
    """The ``acr`` values a login must end with exactly, for an essential ``acr`` (known values
    only, weakest first); None when ``acr`` is not essential. An empty list cannot be met."""
    try:
        parsed = parse(data.get("claims"))
    except InvalidRequestError:
        return None  # refused by the checks before; nothing to require here
    values, essential = acr_request(parsed)
    if not essential:
        return None
    return [value for value in ranking if value in values]


def voluntary_acrs(data: dict[str, Any]) -> list[str]:
    """``acr`` values asked without ``essential``: as ``acr_values``, a wish (§5.5.1.1)."""
    try:
        values, essential = acr_request(parse(data.get("claims")))
    except InvalidRequestError:
        return []
    return [] if essential else values


def requested_claims(
    text: str | None, target: str, subject: catalogue.Subject, allowed: Iterable[str]
) -> dict[str, Any]:
    """The claims ``text`` asks for in ``target`` that a scope the client may have gives, with
    a value in the directory; ``{}`` when it asks for none."""
    try:
        names = list((parse(text).get(target) or {}).keys())
    except InvalidRequestError:
        return {}
    if not names:
        return {}
    allowed = set(allowed)
    available: dict[str, Any] = {}
    for scope in catalogue.CATALOGUE.values():
        if scope.claims is not None and scope.name in allowed:
            available.update(scope.claims(subject))
    return {name: available[name] for name in names if _has_value(available.get(name))}


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value != []
