"""The checks of an authorization request beyond Authlib's, in the order they run.

Each check is a small function; ``check_all`` lists them on one screen (node-oidc-provider style).
"""

from __future__ import annotations

from collections.abc import Callable

from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN

from psc_idp.config import current_settings
from psc_idp.protocol import claims_request
from psc_idp.protocol.jarm import JWT_MODES
from psc_idp.protocol.models import Client

SINGLE_VALUED = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "acr_values",
    "login_hint",
    "ui_locales",
    "response_mode",
    "id_token_hint",
    "claims",
]
MAX_LENGTH = {"login_hint": 255, "nonce": 1024, "state": 2048, "ui_locales": 255}
DEFAULT_MAX_LENGTH = 4096
PROMPTS = {"none", "login", "consent", "select_account"}
RESPONSE_MODES = {"query", "fragment", "form_post", *JWT_MODES}


def check_single_values(request: OAuth2Request, client: Client) -> None:
    for name in SINGLE_VALUED:
        if len(request.payload.datalist.get(name, [])) > 1:
            raise InvalidRequestError(f"Duplicated parameter: {name}")


def check_lengths(request: OAuth2Request, client: Client) -> None:
    for name, value in request.payload.data.items():
        if len(value) > MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH):
            raise InvalidRequestError(f"Parameter too long: {_shown(name)}")


def _shown(name: str) -> str:
    """A parameter name fit for ``error_description``, which allows printable ASCII only (Authlib
    raises a ValueError, a 500, on anything else)."""
    name = name[:40]
    return "(unprintable name)" if invalid_error_characters(name) else name


def check_response_mode(request: OAuth2Request, client: Client) -> None:
    mode = request.payload.data.get("response_mode")
    if mode is not None and mode not in RESPONSE_MODES:
        raise InvalidRequestError("Invalid parameter: response_mode")


def check_pkce(request: OAuth2Request, client: Client) -> None:
    challenge = request.payload.data.get("code_challenge")
    method = request.payload.data.get("code_challenge_method")
    if not challenge:
        if method:
            raise InvalidRequestError("Missing parameter: code_challenge")
        if client.is_public or client.require_pkce:
            raise InvalidRequestError("Missing parameter: code_challenge_method")
        return
    method = method or "plain"
    if method not in ("S256", "plain") or (method == "plain" and not client.allow_plain_pkce):
        raise InvalidRequestError("Invalid parameter: code_challenge_method")
    if not CODE_CHALLENGE_PATTERN.match(challenge):
        raise InvalidRequestError("Invalid parameter: code_challenge")


def check_prompt(request: OAuth2Request, client: Client) -> None:
    prompts = prompt_values(request)
    if not prompts <= PROMPTS:
        raise InvalidRequestError("Invalid parameter: prompt")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("Invalid parameter: prompt")


def check_max_age(request: OAuth2Request, client: Client) -> None:
    value = request.payload.data.get("max_age")
    if value is not None and not (value.isdigit() and len(value) <= 10):
        raise InvalidRequestError("Invalid parameter: max_age")


def check_claims(request: OAuth2Request, client: Client) -> None:
    """A well-formed ``claims`` parameter (§5.5); an essential ``acr`` naming no level psc-idp
    knows can never be met: refused at once rather than after a login."""
    data = request.payload.data
    claims_request.parse(data.get("claims"))
    if claims_request.essential_acrs(data, acr_ranking()) == []:
        raise claims_request.UnmetAuthenticationRequirements("Requested acr values cannot be met")


CHECKS: tuple[Callable[[OAuth2Request, Client], None], ...] = (
    check_single_values,  # a NUL in any parameter was refused before (http.guard)
    check_lengths,
    check_response_mode,
    check_pkce,
    check_prompt,
    check_max_age,
    check_claims,
)


def check_all(request: OAuth2Request, client: Client) -> None:
    for check in CHECKS:
        check(request, client)


# --- helpers shared with the authorization flow -----------------------------------------------
def prompt_values(request: OAuth2Request) -> set[str]:
    return set((request.payload.data.get("prompt") or "").split())


def acr_ranking() -> list[str]:
    """Known ``acr`` values, weakest first (eIDAS levels: low, substantial, high)."""
    return sorted(set(current_settings().acr_by_auth_mode.values()))


def acceptable_acrs(data: dict) -> list[str]:
    """The ``acr`` values a login may end with: the requested level or stronger.

    PSC answers ``eidas3`` to a card login asked with ``acr_values=eidas1``: a stronger level
    satisfies a weaker request; a weaker one never satisfies a stronger request. ``acr_values``
    is a voluntary claim (OIDC Core §3.1.2.1, §5.5.1.1): values we do not know are ignored, and
    a request naming none we know asks for no level at all; so is an ``acr`` of the ``claims``
    parameter without ``essential``.

    An essential ``acr`` (``claims`` parameter) is a requirement: the login ends with one of its
    values exactly (§5.5.1.1), whatever ``acr_values`` wishes."""
    ranking = acr_ranking()
    required = claims_request.essential_acrs(data, ranking)
    if required is not None:
        return required
    requested = (data.get("acr_values") or "").split() + claims_request.voluntary_acrs(data)
    known = [ranking.index(value) for value in requested if value in ranking]
    return ranking[min(known) :] if known else []


def unmet_essential_acr(data: dict, acr: str | None) -> bool:
    """Whether a login that ended with ``acr`` misses the request's essential ``acr``."""
    required = claims_request.essential_acrs(data, acr_ranking())
    return required is not None and acr not in required
