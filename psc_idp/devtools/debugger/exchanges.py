"""The debugger's back-channel calls: real HTTP to the server's own issuer URL (what a service
provider gets), each recorded as an exchange to show, with its secrets masked.

A call never runs inside a database transaction of the calling request: on SQLite the callee
would wait for the writers' turn the caller holds. The views commit before calling."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import requests

#: Seconds for each call. ``psc-idp serve`` runs 8 threads per worker (``make run``: 2 workers):
#: the debugger's request holds one while its call takes another. A server left with no free
#: thread (``--workers 1 --threads 1``) cannot answer its own call: the timeout ends the wait
#: and the page says so (docs/developer-tools.md).
TIMEOUT = 5.0
#: A response body shown is cut beyond this many characters (a run stays small in the table).
MAX_BODY = 20_000
MASK = "••••••"
SECRET_FIELDS = {"client_secret", "password", "client_assertion"}
SECRET_HEADERS = {"cookie", "set-cookie", "dpop"}


@dataclass
class Call:
    """One request the debugger makes; ``auth`` is (client_id, secret) for HTTP Basic."""

    method: str
    url: str
    form: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    auth: tuple[str, str] | None = None


def perform(title: str, call: Call, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Send ``call``; the exchange as it will be shown (never raises for a network failure)."""
    headers = {"Accept": "application/json, application/jwt", **(call.headers or {})}
    if call.auth is not None:
        pair = f"{call.auth[0]}:{call.auth[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    if call.form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    exchange: dict[str, Any] = {
        "title": title,
        "request": {
            "method": call.method,
            "url": call.url,
            "headers": masked_headers(headers),
            "form": masked_form(call.form),
        },
    }
    try:
        response = requests.request(
            call.method,
            call.url,
            data=call.form,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        exchange["failure"] = (
            f"Pas de réponse en {timeout:g} s : le serveur n'a peut-être plus de fil libre pour "
            "répondre à son propre appel (voir docs/developer-tools.md, « Débogueur »)."
        )
        return exchange
    except requests.RequestException as error:
        exchange["failure"] = f"Appel impossible : {type(error).__name__} ({error})"
        return exchange
    exchange["response"] = response_view(response)
    return exchange


def browser_step(title: str, method: str, url: str, params: dict[str, str]) -> dict[str, Any]:
    """A request the browser makes (a redirect), shown like the others but not sent from here."""
    return {
        "title": title,
        "browser": True,
        "request": {"method": method, "url": url, "headers": {}, "form": None, "query": params},
    }


def response_view(response: requests.Response) -> dict[str, Any]:
    text = response.text
    body: Any = text[:MAX_BODY] + (" […tronqué]" if len(text) > MAX_BODY else "")
    parsed: Any = None
    if "json" in response.headers.get("Content-Type", ""):
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
    return {
        "status": response.status_code,
        "reason": response.reason,
        "headers": masked_headers(dict(response.headers)),
        "body": json.dumps(parsed, indent=2, ensure_ascii=False) if parsed is not None else body,
        "json": parsed if isinstance(parsed, dict) else None,
    }


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            shown[name] = mask_authorization(value)
        elif lowered in SECRET_HEADERS:
            shown[name] = MASK
        else:
            shown[name] = value
    return shown


def mask_authorization(value: str) -> str:
    """Basic: the client id stays readable, the secret not; Bearer: the token's start only."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id = base64.b64decode(credentials).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return f"Basic {MASK}"
        return f"Basic {MASK} (client_id « {client_id} » : secret masqué)"
    if scheme.lower() in ("bearer", "dpop"):
        return f"{scheme} {credentials[:12]}{MASK}"
    return MASK


def masked_form(form: dict[str, str] | None) -> dict[str, str] | None:
    if form is None:
        return None
    return {k: (MASK if k in SECRET_FIELDS and v else v) for k, v in form.items()}
