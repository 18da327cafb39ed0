"""Rate limits: a configured ``count/period`` per name, counted by ``throttle.hit`` in the
database (one upsert per counted request, so they hold across instances), refused with
``TooManyRequests`` (429 and ``Retry-After``; JSON on protocol paths, a French page in the
browser: ``wallet/errors.py``)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psc_idp import throttle
from psc_idp.config import Settings, current_settings
from psc_idp.observe.metrics import count_refusal

UNITS = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "d": 86400}
RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]*)\s*$")

#: Each limit: its setting, and what it says when it refuses (protocol, French page).
LIMITS: dict[str, tuple[str, str, str]] = {
    "token": ("rate_limit_token", "Too many token requests for this client", ""),
    "introspection": (
        "rate_limit_introspection",
        "Too many introspection requests for this client",
        "",
    ),
    "pushed_authorization": ("rate_limit_par", "Too many pushed requests for this client", ""),
    "backchannel_authentication": (
        "rate_limit_ciba",
        "Too many backchannel requests for this client",
        "",
    ),
    "ciba_national_id": (
        "rate_limit_ciba_per_national_id",
        "Too many backchannel requests for this user: try again later",
        "",
    ),
    "login_national_id": (
        "rate_limit_login_per_national_id",
        "Too many logins started for this user",
        "Trop de connexions ont été demandées pour cet identifiant. Réessayez plus tard.",
    ),
    "login_ip": (
        "rate_limit_login_per_ip",
        "Too many login requests from this address",
        "Trop de demandes de connexion depuis votre adresse. Réessayez dans un instant.",
    ),
    "admin_login_ip": (
        "rate_limit_admin_login",
        "Too many admin login attempts from this address",
        "Trop de tentatives de connexion à la console d'administration depuis votre adresse. "
        "Réessayez plus tard.",
    ),
}


@dataclass(frozen=True)
class Rate:
    count: int
    period: int


class TooManyRequests(Exception):
    """A limit refused the request: 429 with ``Retry-After``."""

    def __init__(self, name: str, retry_after: int, description: str, message: str = ""):
        super().__init__(description)
        self.name = name
        self.retry_after = max(1, int(retry_after))
        self.description = description
        #: What a French page says (protocol refusals have none: they are never pages).
        self.message = message


@lru_cache(maxsize=64)  # read at every counted request: the settings hold a few strings
def parse(text: str) -> Rate | None:
    """``600/min``, ``20/10s``, ``3/h``; None for no limit (``0``, empty)."""
    if not text or text.strip() == "0":
        return None
    matched = RATE.match(text.lower())
    if matched is None or matched.group(3) not in UNITS:
        raise ValueError(f"invalid rate {text!r}: expected count/period, e.g. 600/min or 20/10s")
    count, multiple, unit = int(matched.group(1)), int(matched.group(2) or 1), matched.group(3)
    period = multiple * UNITS[unit]
    if not 0 < period <= throttle.MAX_WINDOW:
        raise ValueError(f"invalid rate {text!r}: the period is 1 s to 1 day")
    return None if count == 0 else Rate(count, period)


def check_settings(settings: Settings) -> None:
    """Refuse to start with a rate that cannot be read."""
    for setting, _, _ in LIMITS.values():
        try:
            parse(getattr(settings, setting))
        except ValueError as error:
            raise ValueError(f"{setting}: {error}") from error


#: Where, in the request's WSGI environ, the limits counted for it keep their outcome: a request
#: answered in part before Flask (``protocol/direct.py``) and then handed to Flask is counted
#: once. A client cannot set such a key (its headers arrive as ``HTTP_*``).
COUNTED = "psc_idp.rate_limits.counted"


def enforce(name: str, key: str, environ: MutableMapping[str, Any] | None = None) -> None:
    """Count one request for ``key`` under limit ``name``; raise ``TooManyRequests`` past it.
    No statement at all when the limit is off. Called before the request stages anything: the
    count is committed at once, with the session (counted even if the request then fails).

    With the request's ``environ``, a limit already counted for this request is not counted
    again: its outcome is given again (the same refusal, or nothing)."""
    if name not in LIMITS:
        return
    counted = environ.setdefault(COUNTED, {}) if environ is not None else {}
    if (name, key) in counted:
        refusal = counted[name, key]
        if refusal is not None:
            raise refusal
        return
    setting, description, message = LIMITS[name]
    rate = parse(getattr(current_settings(), setting))
    if rate is None:
        return
    verdict = throttle.hit(
        f"limit\0{name}\0{key}",
        rate.count,
        rate.period,
        in_session=True,
        batch=throttle.batch_for(rate.count),
    )
    if verdict.allowed:
        counted[name, key] = None
        return
    count_refusal(name)
    counted[name, key] = TooManyRequests(name, verdict.retry_after, description, message)
    raise counted[name, key]
