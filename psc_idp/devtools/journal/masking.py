"""What the journal keeps of a value: never a usable secret.

Secrets proper (client secrets, passwords, PINs) keep their length only; one-time values
(codes, tokens, ``auth_req_id``) their first characters; a JWT its header and claims without its
signature (a client assertion's ``exp`` and ``jti`` are what its author needs to see, and
without the signature it proves nothing)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Kept as their length only.
SECRETS = frozenset({"client_secret", "password", "pin", "otp", "totp", "secret"})
#: Kept as their first characters, or a JWT without its signature.
ONE_TIME = frozenset(
    {
        "code",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "id_token_hint",
        "token",
        "client_assertion",
        "assertion",
        "subject_token",
        "actor_token",
        "auth_req_id",
        "login_hint_token",
        "client_notification_token",
        "request",
        "request_uri",
        "response",
        "logout_token",
        "device_code",
    }
)
PREFIX = 4
#: Longest value kept as sent (anything longer is cut: a journal row stays small).
MAX_VALUE = 512
#: Headers worth showing; the others are not the SP's protocol message.
HEADERS = ("Authorization", "DPoP", "Content-Type", "Origin", "Accept", "User-Agent")


def hidden(value: str) -> str:
    return f"•••• ({len(value)} caractères)"


def shortened(value: str) -> str:
    """A JWT without its signature, anything else its first characters."""
    parts = value.split(".")
    if len(parts) in (3, 5) and all(parts[:2]):
        return ".".join(parts[:2])[:MAX_VALUE] + ".…"
    if len(value) <= PREFIX * 2:
        return hidden(value)
    return f"{value[:PREFIX]}… ({len(value)} caractères)"


def mask_value(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in SECRETS:
        return hidden(value)
    if lowered in ONE_TIME:
        return shortened(value)
    return value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"


def mask_pairs(pairs: Any) -> dict[str, Any]:
    """A form or a query (``MultiDict`` items or pairs), masked; repeated names as lists."""
    masked: dict[str, Any] = {}
    for name, value in pairs:
        shown = mask_value(name, str(value))
        if name in masked:
            previous = masked[name]
            masked[name] = [*previous, shown] if isinstance(previous, list) else [previous, shown]
        else:
            masked[name] = shown
    return masked


def mask_header(name: str, value: str) -> str:
    if name == "Authorization":
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            return f"Basic {basic_user(credentials) or '?'}:••••"
        return f"{scheme} {shortened(credentials)}" if credentials else hidden(value)
    if name == "DPoP":
        return shortened(value)
    return value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"


def basic_user(credentials: str) -> str | None:
    """The client id of ``Basic`` credentials (RFC 6749 §2.3.1: form-encoded), or None."""
    from urllib.parse import unquote_plus

    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, colon, _ = decoded.partition(":")
    return unquote_plus(user) if colon else None


#: A login transaction's id in a path (la mire's ``…/login/<id>``, ``…/auth/resume/<id>``).
TRANSACTION_SEGMENT = re.compile(r"(/(?:login|resume)/)([^/]+)")


def mask_path(path: str) -> str:
    return TRANSACTION_SEGMENT.sub(lambda m: m.group(1) + shortened(m.group(2)), path)


def mask_url(url: str) -> str:
    """A redirect's URL, its query and fragment masked (``code``, tokens, JARM's response)."""
    parts = urlsplit(url)
    query = urlencode(list(mask_pairs(parse_qsl(parts.query, keep_blank_values=True)).items()))
    fragment = parts.fragment
    if "=" in fragment:
        pairs = parse_qsl(fragment, keep_blank_values=True)
        fragment = urlencode(list(mask_pairs(pairs).items()))
    return urlunsplit((parts.scheme, parts.netloc, mask_path(parts.path), query, fragment))
