"""Each flow's requests, as a service provider would send them, and what their answers leave
in the run (tokens, the CIBA request). The views decide when; nothing here touches the
database."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

from psc_idp.config import Settings
from psc_idp.devtools.debugger import tokens as token_view
from psc_idp.devtools.debugger.exchanges import Call, browser_step, perform
from psc_idp.devtools.debugger.explain import explain_claims
from psc_idp.protocol.discovery import endpoint

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
AUTH_METHODS = {
    "client_secret_basic": "client_secret_basic (HTTP Basic)",
    "client_secret_post": "client_secret_post (dans le formulaire)",
    "none": "none (client public, PKCE)",
}
PKCE_METHODS = ("S256", "plain", "none")
#: Authorization request parameters taken from the form when given.
OPTIONAL_PARAMS = ("acr_values", "prompt", "max_age", "claims", "login_hint")


def callback_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/dev/debugger/callback"


def logged_out_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/dev/debugger/logged-out"


def pkce(method: str) -> tuple[str, dict[str, str]]:
    """The verifier and the parameters the authorization request carries."""
    if method == "none":
        return "", {}
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, {"code_challenge": verifier, "code_challenge_method": "plain"}
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return verifier, {"code_challenge": challenge, "code_challenge_method": "S256"}


def authorization_params(settings: Settings, run: dict[str, Any]) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": run["client_id"],
        "redirect_uri": callback_url(settings),
        "scope": run["scope"],
        "state": run["state"],
        "nonce": run["nonce"],
        **run.get("pkce_params", {}),
    }
    params.update({k: run[k] for k in OPTIONAL_PARAMS if run.get(k)})
    return {k: v for k, v in params.items() if v}


def client_call(run: dict[str, Any], secret: str, method: str, url: str, form: dict) -> Call:
    """A call authenticated as the run's client, by its chosen method."""
    form = dict(form)
    auth = None
    if run["auth_method"] == "client_secret_basic":
        auth = (run["client_id"], secret)
    elif run["auth_method"] == "client_secret_post":
        form.update(client_id=run["client_id"], client_secret=secret)
    else:
        form["client_id"] = run["client_id"]
    return Call(method, url, form=form, auth=auth)


def authorize_step(settings: Settings, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    url = f"{settings.authorization_endpoint}?{urlencode(params)}"
    return url, browser_step(
        "Demande d'autorisation (redirection du navigateur)", "GET", url, params
    )


def push(settings: Settings, run: dict[str, Any], secret: str) -> dict[str, Any]:
    """PAR (RFC 9126): the authorization request posted first, then only its request_uri."""
    call = client_call(
        run,
        secret,
        "POST",
        endpoint(settings, "ext/par/request"),
        authorization_params(settings, run),
    )
    return perform("Requête d'autorisation poussée (PAR)", call)


def token_request(
    settings: Settings, run: dict[str, Any], secret: str, title: str, form: dict[str, str]
) -> dict[str, Any]:
    exchange = perform(title, client_call(run, secret, "POST", endpoint(settings, "token"), form))
    decorate(settings, exchange, run)
    return exchange


def ciba_request(settings: Settings, run: dict[str, Any], secret: str) -> dict[str, Any]:
    form = {"scope": run["scope"], "login_hint": run.get("login_hint", "")}
    for name in ("acr_values", "binding_message", "channel"):
        if run.get(name):
            form[name] = run[name]
    url = endpoint(settings, "ext/ciba/auth")
    return perform("Demande CIBA (backchannel)", client_call(run, secret, "POST", url, form))


def introspect(settings: Settings, run: dict[str, Any], secret: str, token: str) -> dict:
    url = endpoint(settings, "token/introspect")
    exchange = perform("Introspection", client_call(run, secret, "POST", url, {"token": token}))
    body = (exchange.get("response") or {}).get("json")
    if body:
        exchange["explained"] = explain_claims(body)
    return exchange


def userinfo(settings: Settings, token: str) -> dict[str, Any]:
    call = Call("GET", endpoint(settings, "userinfo"), headers={"Authorization": f"Bearer {token}"})
    exchange = perform("UserInfo", call)
    response = exchange.get("response") or {}
    if response.get("json"):
        exchange["explained"] = explain_claims(response["json"])
    elif response.get("status") == 200 and response.get("body", "").count(".") in (2, 4):
        jwks, problem = token_view.fetch_jwks(endpoint(settings, "certs"))
        exchange["tokens"] = [token_view.inspect("userinfo", response["body"], jwks, problem)]
    return exchange


def logout_step(
    settings: Settings, run: dict[str, Any], id_token: str, state: str, registered: bool
) -> tuple[str, dict[str, Any]]:
    params = {"client_id": run["client_id"], "id_token_hint": id_token, "state": state}
    if registered:
        params["post_logout_redirect_uri"] = logged_out_url(settings)
    params = {k: v for k, v in params.items() if v}
    url = f"{endpoint(settings, 'logout')}?{urlencode(params)}"
    return url, browser_step("Déconnexion initiée par le service (navigateur)", "GET", url, params)


def decorate(settings: Settings, exchange: dict[str, Any], run: dict[str, Any]) -> None:
    """The tokens of a token response decoded and checked; the nonce compared."""
    body = (exchange.get("response") or {}).get("json") or {}
    names = token_view.TOKEN_FIELDS
    found = {name: body[name] for name in names if isinstance(body.get(name), str)}
    if not found:
        return
    jwks, problem = token_view.fetch_jwks(endpoint(settings, "certs"))
    exchange["tokens"] = [token_view.inspect(n, t, jwks, problem) for n, t in found.items()]
    checks = exchange.setdefault("checks", [])
    if "id_token" in found and run.get("nonce"):
        seen = token_view.unverified_claims(found["id_token"]).get("nonce")
        checks.append(
            {
                "ok": seen == run["nonce"],
                "label": f"nonce de l'id_token « {seen} » = nonce envoyé « {run['nonce']} »",
            }
        )


def inspect_pasted(settings: Settings, token: str) -> dict[str, Any]:
    jwks, problem = token_view.fetch_jwks(endpoint(settings, "certs"))
    return {
        "title": "Jeton collé, décodé",
        "local": True,
        "tokens": [token_view.inspect("pasted", token, jwks, problem)],
    }
