"""Where a run lives between requests: a row of ``debugger_run``, opened only by the browser
that started it (a random cookie, stored as a keyed hash), for an hour at most, its contents
sealed (``DebuggerRun.data``)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Response, current_app, request

from psc_idp.devtools.debugger.models import DebuggerRun
from psc_idp.extensions import db
from psc_idp.timeutil import now

COOKIE = "psc_debugger"
COOKIE_PATH = "/dev/debugger"
LIFETIME = timedelta(hours=1)
#: A CIBA request polled every 5 s for its 120 s makes 25 exchanges; more is a loop.
MAX_EXCHANGES = 60
SECRET_PURPOSE = "debugger-client-secret"


def browser_value() -> str:
    """The browser's debugger cookie; a new value when it has none (set by ``keep_cookie``)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) < 20 or len(value) > 64:
        value = getattr(request, "_debugger_cookie", "") or secrets.token_urlsafe(24)
        request._debugger_cookie = value  # type: ignore[attr-defined]
    return value


def keep_cookie(response: Response) -> Response:
    value = getattr(request, "_debugger_cookie", "")
    if value:
        secure = request.scheme == "https"
        response.set_cookie(
            COOKIE, value, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=secure
        )
    return response


def _browser_hash() -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(browser_value(), "debugger-browser")


def new_run(flow: str, data: dict[str, Any], state: str | None = None) -> DebuggerRun:
    run = DebuggerRun(
        id=secrets.token_urlsafe(24),
        browser=_browser_hash(),
        state=state,
        flow=flow,
        data={"exchanges": [], **data},
        created_at=now(),
        expires_at=now() + LIFETIME,
    )
    db.session.add(run)
    return run


def _opens(run: DebuggerRun) -> bool:
    """False for a run sealed under another app secret (rotated since): as if gone."""
    try:
        run.data  # noqa: B018 - opened to know whether it opens
    except ValueError:
        return False
    return True


def load_run(run_id: str) -> DebuggerRun | None:
    run = db.session.get(DebuggerRun, run_id[:64])
    if run is None or run.browser != _browser_hash() or run.expires_at < now():
        return None
    return run if _opens(run) else None


def run_by_state(state: str) -> DebuggerRun | None:
    run = (
        db.session.query(DebuggerRun)
        .filter(
            DebuggerRun.state == state[:255],
            DebuggerRun.browser == _browser_hash(),
            DebuggerRun.expires_at > now(),
        )
        .order_by(DebuggerRun.created_at.desc())
        .first()
    )
    return run if run is not None and _opens(run) else None


def recent_runs(limit: int = 8) -> list[DebuggerRun]:
    runs = (
        db.session.query(DebuggerRun)
        .filter(DebuggerRun.browser == _browser_hash(), DebuggerRun.expires_at > now())
        .order_by(DebuggerRun.created_at.desc())
        .limit(limit)
        .all()
    )
    return [run for run in runs if _opens(run)]


def update(run: DebuggerRun, *exchanges: dict[str, Any], **changes: Any) -> None:
    """Append exchanges and change fields of ``run.data`` (a new dict: JSON columns see only
    assignments)."""
    data = dict(run.data)
    data["exchanges"] = [*data.get("exchanges", []), *exchanges][-MAX_EXCHANGES:]
    data.update(changes)
    run.data = data


def seal_secret(secret: str) -> str:
    return current_app.extensions["psc_app_secret"].seal(secret, SECRET_PURPOSE) if secret else ""


def open_secret(sealed: str) -> str:
    if not sealed:
        return ""
    return current_app.extensions["psc_app_secret"].unseal(sealed, SECRET_PURPOSE)
