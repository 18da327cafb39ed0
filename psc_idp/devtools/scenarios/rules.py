"""What a scenario may say: which effect at which endpoint, which OAuth error each endpoint
answers (the RFCs' lists), the bounds. One check, used by the CLI and the realm file alike."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.directory.userinfo import PROFILES

ENDPOINTS = ("authorize", "token", "userinfo", "introspect", "ciba")

#: RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6, §6.2.
AUTHORIZE_ERRORS = (
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
)
#: RFC 6749 §5.2, CIBA §11 (a poll), RFC 9449 §12 (DPoP), and the 5xx codes Keycloak uses.
TOKEN_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "access_denied",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    "server_error",
    "temporarily_unavailable",
)
ERRORS = {
    "authorize": AUTHORIZE_ERRORS,
    "token": TOKEN_ERRORS,
    "userinfo": ("invalid_request", "invalid_token", "insufficient_scope"),  # RFC 6750 §3.1
    "introspect": ("invalid_request", "invalid_client", "unauthorized_client", "server_error"),
    # CIBA §13.
    "ciba": (
        "invalid_request",
        "invalid_scope",
        "expired_login_hint_token",
        "unknown_user_id",
        "unauthorized_client",
        "missing_user_code",
        "invalid_user_code",
        "invalid_binding_message",
        "invalid_client",
        "access_denied",
        "slow_down",
    ),
}
#: The status each error travels with; any other is 400.
ERROR_STATUS = {
    "invalid_client": 401,
    "invalid_token": 401,
    "insufficient_scope": 403,
    "server_error": 500,
    "temporarily_unavailable": 503,
}
CIBA_OUTCOMES = ("denied", "expired")
MAX_DELAY = 30.0
STATUS_RANGE = (400, 599)
#: A claim's name as tokens and UserInfo spell them (``SubjectRefPro``, ``x5t#S256``…).
CLAIM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:#-]{0,63}")
ACR_VALUE = re.compile(r"[\x21-\x7e]{1,64}")

#: Effect → the endpoints it applies at (and what it changes there: docs/developer-tools.md).
EFFECTS: dict[str, tuple[str, ...]] = {
    "error": ENDPOINTS,
    "status": ENDPOINTS,
    "delay": ENDPOINTS,
    "drop_claim": ("token", "userinfo"),  # token: ID and access tokens; userinfo: its JSON
    "rename_claim": ("token", "userinfo"),
    "acr": ("token",),  # the ID token's and the access token's acr
    "expired_token": ("token",),
    "wrong_signature": ("token",),
    "userinfo_profile": ("userinfo",),
    "ciba_outcome": ("ciba",),
}
#: Effects that take no value (a flag on the CLI, ``true`` in the realm file).
FLAGS = ("expired_token", "wrong_signature")
#: Scenarios per client: configuration, bounded (the purge deletes none of them).
MAX_PER_CLIENT = 50


class ScenarioInvalid(ValueError):
    """A scenario that cannot be: the message says why, in French."""


@dataclass(frozen=True)
class Spec:
    """A checked scenario, before it is stored."""

    client_id: str
    national_id: str | None
    endpoint: str
    effect: str
    value: str


def check(
    client_id: str, national_id: str | None, endpoint: str, effect: str, value: object
) -> Spec:
    """The scenario, its value normalised; ``ScenarioInvalid`` otherwise."""
    if not isinstance(client_id, str) or not client_id:
        raise ScenarioInvalid("client_id manquant.")
    if national_id is not None:
        try:
            national_id = validate_national_id(str(national_id))
        except InvalidNationalId as error:
            raise ScenarioInvalid(str(error)) from None
    if endpoint not in ENDPOINTS:
        raise ScenarioInvalid(
            f"point d'accès inconnu « {endpoint} » : attendu {', '.join(ENDPOINTS)}."
        )
    if effect not in EFFECTS:
        raise ScenarioInvalid(f"effet inconnu « {effect} » : attendu {', '.join(EFFECTS)}.")
    if endpoint not in EFFECTS[effect]:
        where = ", ".join(EFFECTS[effect])
        raise ScenarioInvalid(f"l'effet {effect} ne s'applique qu'à : {where} (pas {endpoint}).")
    return Spec(client_id, national_id, endpoint, effect, _value(endpoint, effect, value))


def _value(endpoint: str, effect: str, value: object) -> str:
    if effect in FLAGS:
        if value not in (True, "", None, "true"):
            raise ScenarioInvalid(f"{effect} ne prend pas de valeur (true).")
        return ""
    if effect == "error":
        allowed = ERRORS[endpoint]
        if value not in allowed:
            raise ScenarioInvalid(
                f"erreur « {value} » non prévue au point d'accès {endpoint} :"
                f" attendu {', '.join(allowed)}."
            )
        return str(value)
    if effect == "status":
        low, high = STATUS_RANGE
        number = _number(value, "statut")
        if number != int(number) or not low <= number <= high:
            raise ScenarioInvalid(f"statut HTTP {value} hors limites : de {low} à {high}.")
        return str(int(number))
    if effect == "delay":
        seconds = _number(value, "délai")
        if not 0 < seconds <= MAX_DELAY:
            raise ScenarioInvalid(f"délai {value} hors limites : de 0 à {MAX_DELAY:g} secondes.")
        return f"{seconds:g}"
    if effect == "drop_claim":
        return _claim_name(value)
    if effect == "rename_claim":
        old, sep, new = str(value).partition("=")
        if not sep:
            raise ScenarioInvalid(f"renommage « {value} » : attendu ANCIEN=NOUVEAU.")
        old, new = _claim_name(old), _claim_name(new)
        if old == new:
            raise ScenarioInvalid(f"renommage « {value} » : le nouveau nom est l'ancien.")
        return f"{old}={new}"
    if effect == "acr":
        if not isinstance(value, str) or not ACR_VALUE.fullmatch(value):
            raise ScenarioInvalid(f"acr « {value} » : 1 à 64 caractères visibles, sans espace.")
        return value
    if effect == "userinfo_profile":
        older = tuple(p for p in PROFILES if p != "current")
        if value not in older:
            raise ScenarioInvalid(f"forme de UserInfo « {value} » : attendu {', '.join(older)}.")
        return str(value)
    if value not in CIBA_OUTCOMES:  # ciba_outcome
        raise ScenarioInvalid(f"issue CIBA « {value} » : attendu {', '.join(CIBA_OUTCOMES)}.")
    return str(value)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise ScenarioInvalid(f"{what} « {value} » : un nombre est attendu.")
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ScenarioInvalid(f"{what} « {value} » : un nombre est attendu.")
    return number


def _claim_name(value: object) -> str:
    if not isinstance(value, str) or not CLAIM_NAME.fullmatch(value):
        raise ScenarioInvalid(
            f"nom de claim « {value} » invalide : lettres, chiffres, _ . : # -, 64 au plus."
        )
    return value
