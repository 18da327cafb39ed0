"""Logout at psc-idp ends the establishment's session too, when its provider supports
RP-initiated logout (``end_session_endpoint`` in its discovery document): the provider's ID
token is kept sealed with the SSO session (``login.upstream_logout``) and, at logout, the
browser goes to that endpoint with it as ``id_token_hint``, then back to psc-idp."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import Flask, current_app

from psc_idp.login import upstream_logout
from psc_idp.means.fi_tiers import upstream
from psc_idp.means.fi_tiers.providers import Provider, find_provider

KIND = "fi_tiers"


def _purpose(state: str) -> str:
    return f"fi-tiers-id-token\0{state}"


def seal_id_token(state: str, id_token: str) -> str:
    """Kept with the brokered login (``state``) until the login is recorded (pairing)."""
    return current_app.extensions["psc_app_secret"].seal(id_token, _purpose(state))


def unseal_id_token(state: str, sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return current_app.extensions["psc_app_secret"].unseal(sealed, _purpose(state))
    except ValueError:
        return None


def _end_session_endpoint(provider: Provider) -> str | None:
    try:
        endpoint = upstream.metadata(provider).get("end_session_endpoint")
    except upstream.UpstreamError:
        return None
    return endpoint if isinstance(endpoint, str) and endpoint.startswith("http") else None


def session_upstream(provider: Provider, id_token: str | None) -> dict[str, str] | None:
    """What the SSO session keeps for the logout; None when the provider has no
    RP-initiated logout (nothing then to keep of its token)."""
    if not id_token or _end_session_endpoint(provider) is None:
        return None
    return {"kind": KIND, "alias": provider.alias, "id_token": id_token}


def logout_url(data: dict[str, str], post_logout_redirect_uri: str, state: str) -> str | None:
    provider = find_provider(data.get("alias", ""))
    endpoint = _end_session_endpoint(provider) if provider else None
    if provider is None or endpoint is None or not data.get("id_token"):
        return None  # gone from the realm, or no longer advertised: the local logout only
    return add_params_to_uri(
        endpoint,
        [
            ("id_token_hint", data["id_token"]),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
            ("state", state),
            ("client_id", provider.client_id),
        ],
    )


def init_app(app: Flask) -> None:
    upstream_logout.register(app, KIND, logout_url)
