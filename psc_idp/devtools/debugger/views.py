"""``/dev/debugger``: a relying party built into psc-idp (development mode only). A form
starts a flow; the run page shows every request and response, the decoded tokens and the PSC
claims explained. Back-channel calls go over HTTP to the issuer URL; the browser's steps are
real redirects. Every write is committed before a call (exchanges.py says why)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.devtools.debugger import actions, flows, scenarios, store
from psc_idp.devtools.debugger.exchanges import browser_step
from psc_idp.devtools.debugger.models import DebuggerRun
from psc_idp.extensions import db
from psc_idp.login.csrf import bound_token, same_token
from psc_idp.protocol.clients import all_clients
from psc_idp.protocol.models import Client
from psc_idp.protocol.scopes import SUPPORTED_SCOPES

bp = Blueprint("debugger", __name__, url_prefix="/dev/debugger")
bp.after_request(store.keep_cookie)

DEBUGGER_CLIENT = "demo-debugger"
DEMO_SECRETS_FILE = "demo-client-secrets.json"
FLOWS = {
    "code": "Code d'autorisation + PKCE",
    "par": "Code d'autorisation par requête poussée (PAR)",
    "ciba": "CIBA : demande puis interrogation jusqu'au résultat",
    "refresh": "Rafraîchissement (refresh_token)",
    "introspect": "Introspection d'un jeton d'accès",
    "userinfo": "UserInfo avec un jeton d'accès",
    "logout": "Déconnexion initiée par le service (id_token_hint)",
    "decode": "Décoder et vérifier un jeton collé",
}
TOKEN_FLOWS = {"refresh", "introspect", "userinfo", "logout", "decode"}
LIMITS = {"scope": 1000, "claims": 4000, "token": 20000}


def _csrf() -> str:
    return bound_token(store.browser_value(), "debugger")


def _csrf_ok() -> bool:
    return same_token(request.form.get("csrf_token"), _csrf())


EXPIRED = "Formulaire expiré ou venu d'ailleurs : rien n'a été envoyé. Relancez le flux ici."


def _field(name: str, default: str = "") -> str:
    value = request.form.get(name, default)
    return value.strip()[: LIMITS.get(name, 255)] if isinstance(value, str) else default


# --- the form ---------------------------------------------------------------------------
@bp.get("/")
def index() -> ResponseReturnValue:
    return _form()


def _form(error: str = "", values: dict[str, str] | None = None, status: int = 200):
    settings = current_settings()
    callback = flows.callback_url(settings)
    values = values or {}
    clients = [_client_row(c, callback) for c in all_clients()]
    chosen = values.get("client_id") or DEBUGGER_CLIENT
    return (
        render_template(
            "debugger/index.html",
            flows=FLOWS,
            clients=clients,
            chosen=chosen,
            auth_methods=flows.AUTH_METHODS,
            pkce_methods=flows.PKCE_METHODS,
            scopes=SUPPORTED_SCOPES,
            callback=callback,
            values=values,
            state=values.get("state") or secrets.token_urlsafe(16),
            nonce=values.get("nonce") or secrets.token_urlsafe(16),
            binding_message=values.get("binding_message") or f"{secrets.randbelow(100):02d}",
            csrf_token=_csrf(),
            error=error,
            runs=[_run_summary(r) for r in store.recent_runs()],
            dev_mode=True,
        ),
        status,
    )


def _client_row(client: Client, callback: str) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name or "",
        "method": client.token_endpoint_auth_method,
        "has_callback": callback in (client.redirect_uris or []),
        "demo_secret": client.client_id in _demo_secrets(),
    }


def _run_summary(run: DebuggerRun) -> dict[str, Any]:
    label = FLOWS.get(run.flow, run.flow)
    return {"id": run.id, "flow": label, "client_id": run.data.get("client_id")}


def _demo_secrets() -> dict[str, str]:
    """The demo clients' generated secrets (keys/), so that a demo client needs none typed."""
    path = Path(current_settings().keys_dir) / DEMO_SECRETS_FILE
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


@bp.post("/start")
def start() -> ResponseReturnValue:
    if not _csrf_ok():
        return _form(EXPIRED, status=400)
    settings = current_settings()
    values = {name: _field(name) for name in request.form if name not in ("csrf_token", "scope")}
    values["scope"] = " ".join(s for s in request.form.getlist("scope") if isinstance(s, str))[
        : LIMITS["scope"]
    ]
    flow = values.get("flow", "")
    if flow not in FLOWS:
        return _form("Choisissez un flux.", values, 400)
    if flow == "decode":
        return _decode(values)
    client = db.session.get(Client, values.get("client_id", ""))
    if client is None:
        return _form("Ce client n'est pas enregistré dans le realm.", values, 400)
    method = values.get("auth_method") or client.token_endpoint_auth_method
    if method not in flows.AUTH_METHODS:
        return _form(
            f"Le débogueur ne sait pas s'authentifier par « {method} » : choisissez "
            "client_secret_basic, client_secret_post ou none.",
            values,
            400,
        )
    secret = values.get("client_secret") or _demo_secrets().get(client.client_id, "")
    if method != "none" and not secret:
        return _form(f"Le secret du client « {client.client_id} » est nécessaire.", values, 400)
    if flow in ("code", "par") and flows.callback_url(settings) not in client.redirect_uris:
        return _form(
            f"Le client « {client.client_id} » n'a pas enregistré l'URI de retour du débogueur "
            f"({flows.callback_url(settings)}) : psc-idp refuserait la demande. Choisissez "
            f"{DEBUGGER_CLIENT} ou ajoutez cette URI à ses redirect_uris.",
            values,
            400,
        )
    if flow in TOKEN_FLOWS and not values.get("token"):
        return _form("Collez le jeton sur lequel agir.", values, 400)
    data = {
        "client_id": client.client_id,
        "auth_method": method,
        "secret": store.seal_secret(secret if method != "none" else ""),
        "scope": values.get("scope") or "openid scope_all",
        "state": values.get("state") or secrets.token_urlsafe(16),
        "nonce": values.get("nonce") or secrets.token_urlsafe(16),
        "post_logout_registered": flows.logged_out_url(settings)
        in (client.post_logout_redirect_uris or []),
    }
    for name in (*flows.OPTIONAL_PARAMS, "binding_message", "channel"):
        data[name] = values.get(name, "")
    if flow in ("code", "par"):
        return _start_authorization(flow, data, values.get("pkce", "S256"))
    if flow == "ciba":
        return _start_ciba(data)
    return _start_with_token(flow, data, values["token"])


def _start_authorization(flow: str, data: dict[str, Any], pkce_method: str):
    settings = current_settings()
    verifier, pkce_params = flows.pkce(pkce_method if pkce_method in flows.PKCE_METHODS else "S256")
    data.update(code_verifier=verifier, pkce_params=pkce_params, pkce=pkce_method)
    run = store.new_run(flow, data, state=data["state"])
    db.session.commit()
    params = flows.authorization_params(settings, data)
    if flow == "par":
        pushed = flows.push(settings, data, _secret_of(data))
        store.update(run, pushed)
        uri = ((pushed.get("response") or {}).get("json") or {}).get("request_uri")
        if not uri:
            db.session.commit()
            return redirect(url_for("debugger.show", run_id=run.id))
        params = {"client_id": data["client_id"], "request_uri": uri}
    url, step = flows.authorize_step(settings, params)
    store.update(run, step)
    db.session.commit()
    return redirect(url)


def _start_ciba(data: dict[str, Any]):
    run = store.new_run("ciba", data)
    db.session.commit()
    exchange = flows.ciba_request(current_settings(), data, _secret_of(data))
    body = (exchange.get("response") or {}).get("json") or {}
    ciba = {"pending": bool(body.get("auth_req_id")), "interval": int(body.get("interval") or 5)}
    store.update(run, exchange, ciba=ciba, auth_req_id=body.get("auth_req_id", ""))
    db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


def _start_with_token(flow: str, data: dict[str, Any], token: str):
    kind = {"refresh": "refresh_token", "logout": "id_token"}.get(flow, "access_token")
    data["tokens"] = {kind: token}
    run = store.new_run(flow, data)
    db.session.commit()
    return actions.perform(run, flow)


def _decode(values: dict[str, str]):
    if not values.get("token"):
        return _form("Collez le jeton à décoder.", values, 400)
    run = store.new_run("decode", {"client_id": ""})
    store.update(run, flows.inspect_pasted(current_settings(), values["token"]))
    db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


def _secret_of(data: dict[str, Any]) -> str:
    return store.open_secret(data.get("secret", ""))


# --- the browser comes back ---------------------------------------------------------------
@bp.get("/callback")
def callback() -> ResponseReturnValue:
    settings = current_settings()
    query = {k: v[:2000] for k, v in request.args.items()}
    run = store.run_by_state(query.get("state", "")) if query.get("state") else None
    if run is None:
        return _lost(query)
    step = browser_step("Réponse d'autorisation (retour du navigateur)", "GET", request.url, query)
    step["checks"] = [
        {"ok": query.get("state") == run.data["state"], "label": "state identique à l'envoyé"},
        {"ok": query.get("iss") == settings.issuer, "label": f"iss = {settings.issuer} (RFC 9207)"},
    ]
    store.update(run, step)
    run.state = None  # the callback is taken once
    db.session.commit()
    if "code" in query:
        form = {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": flows.callback_url(settings),
        }
        if run.data.get("code_verifier"):
            form["code_verifier"] = run.data["code_verifier"]
        exchange = flows.token_request(
            settings, run.data, _secret_of(run.data), "Échange du code (token)", form
        )
        store.update(run, exchange, tokens=actions.tokens_from(exchange, run.data.get("tokens")))
        db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


@bp.get("/logged-out")
def logged_out() -> ResponseReturnValue:
    query = {k: v[:2000] for k, v in request.args.items()}
    run = store.run_by_state(query.get("state", "")) if query.get("state") else None
    if run is None:
        return _lost(query)
    step = browser_step("Retour après la déconnexion (navigateur)", "GET", request.url, query)
    step["checks"] = [{"ok": True, "label": "state identique à l'envoyé"}]
    store.update(run, step)
    run.state = None
    db.session.commit()
    return redirect(url_for("debugger.show", run_id=run.id))


def _lost(query: dict[str, str]):
    return (
        render_template("debugger/lost.html", query=query, dev_mode=True),
        400,
    )


# --- a run --------------------------------------------------------------------------------
@bp.get("/runs/<run_id>")
def show(run_id: str) -> ResponseReturnValue:
    run = store.load_run(run_id)
    if run is None:
        return _lost({})
    tokens = run.data.get("tokens") or {}
    ciba = run.data.get("ciba") or {}
    settings = current_settings()
    client_id = run.data.get("client_id") or ""
    exchanges = run.data.get("exchanges", [])
    return render_template(
        "debugger/run.html",
        run=run,
        flow_label=FLOWS.get(run.flow, run.flow),
        exchanges=exchanges,
        scenario_notes=scenarios.notes(exchanges),
        client_scenarios=scenarios.of_client(client_id),
        scenarios_on=settings.scenarios_enabled,
        journal_url=(
            url_for("dev_journal.client_entries", client_id=client_id)
            if settings.journal_on and client_id
            else None
        ),
        tokens=tokens,
        ciba_pending=bool(ciba.get("pending")),
        interval=ciba.get("interval", 5),
        csrf_token=_csrf(),
        dev_mode=True,
    )


@bp.post("/runs/<run_id>/<action>")
def act(run_id: str, action: str) -> ResponseReturnValue:
    if not _csrf_ok():
        return _form(EXPIRED, status=400)
    run = store.load_run(run_id)
    if run is None or action not in actions.ACTIONS:
        return _lost({})
    db.session.commit()
    return actions.perform(run, action)
