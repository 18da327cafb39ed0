"""What a run does next, from its page's buttons or at once for a flow started on a pasted
token: poll a CIBA request, refresh, introspect, call UserInfo, log out. Each answers the
redirect the browser follows (the run page, or the logout endpoint)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import redirect, url_for
from werkzeug.wrappers import Response

from psc_idp.config import current_settings
from psc_idp.devtools.debugger import flows, store
from psc_idp.devtools.debugger.models import DebuggerRun
from psc_idp.extensions import db

ACTIONS = ("poll", "refresh", "introspect", "userinfo", "logout")


def perform(run: DebuggerRun, action: str) -> Response:
    settings = current_settings()
    data = run.data
    tokens = data.get("tokens") or {}
    secret = store.open_secret(data.get("secret", ""))
    if action == "poll":
        ciba = dict(data.get("ciba") or {})
        if not ciba.get("pending"):
            return redirect(url_for("debugger.show", run_id=run.id))
        form = {"grant_type": flows.CIBA_GRANT, "auth_req_id": data.get("auth_req_id", "")}
        number = sum(1 for e in data["exchanges"] if e.get("poll")) + 1
        exchange = flows.token_request(settings, data, secret, f"Interrogation n° {number}", form)
        exchange["poll"] = True
        error = ((exchange.get("response") or {}).get("json") or {}).get("error")
        if error == "slow_down":
            ciba["interval"] = int(ciba.get("interval", 5)) + 5
        ciba["pending"] = error in ("authorization_pending", "slow_down") or (
            "failure" in exchange and number < 30
        )
        store.update(run, exchange, ciba=ciba, tokens=tokens_from(exchange, tokens))
    elif action == "refresh":
        if not tokens.get("refresh_token"):
            return _missing(run, "refresh_token")
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        exchange = flows.token_request(settings, data, secret, "Rafraîchissement", form)
        store.update(run, exchange, tokens=tokens_from(exchange, tokens))
    elif action in ("introspect", "userinfo"):
        if not tokens.get("access_token"):
            return _missing(run, "access_token")
        if action == "introspect":
            exchange = flows.introspect(settings, data, secret, tokens["access_token"])
        else:
            exchange = flows.userinfo(settings, tokens["access_token"])
        store.update(run, exchange)
    else:
        if not tokens.get("id_token"):
            return _missing(run, "id_token")
        state = secrets.token_urlsafe(16)
        url, step = flows.logout_step(
            settings, data, tokens["id_token"], state, data.get("post_logout_registered", False)
        )
        store.update(run, step)
        run.state = state
        db.session.commit()
        return redirect(url)
    db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


def _missing(run: DebuggerRun, name: str) -> Response:
    store.update(run, {"title": f"Pas de {name} dans cette exécution", "local": True})
    db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


def tokens_from(exchange: dict[str, Any], previous: dict[str, str] | None) -> dict[str, str]:
    body = (exchange.get("response") or {}).get("json") or {}
    found = {k: body[k] for k in ("access_token", "refresh_token", "id_token") if body.get(k)}
    return {**(previous or {}), **found}
