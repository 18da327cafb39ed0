"""Clients: list, create (the secret shown once), edit redirect URIs, grant types and method,
disable and enable. Every change goes through ``protocol.clients.upsert_client``, the realm
file's and ``psc-idp clients``' registration, so its checks are the only ones."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.admin.blueprint import audited, bp, confirmed, page
from psc_idp.cli.clients import AUTH_METHODS, new_secret
from psc_idp.extensions import db
from psc_idp.protocol.client_auth.client_secret_jwt import METHOD as SECRET_JWT
from psc_idp.protocol.clients import (
    GRANT_TYPES,
    METHODS_WITH_SECRET,
    InvalidClient,
    all_clients,
    client_to_dict,
    upsert_client,
)
from psc_idp.protocol.models import Client

METHOD_LABELS = {
    "client_secret_basic": "client_secret_basic (secret, en-tête Authorization)",
    "client_secret_post": "client_secret_post (secret dans le corps)",
    "client_secret_jwt": "client_secret_jwt (assertion HMAC)",
    "private_key_jwt": "private_key_jwt (assertion signée, jwks du client)",
    "tls_client_auth": "tls_client_auth (certificat ORG AUTH_CLI)",
    "none": "none (client public, PKCE)",
}
GRANT_CHOICES = sorted(GRANT_TYPES)
MAX_URIS = 50


def _client(client_id: str) -> Client:
    client = db.session.get(Client, client_id[:255])
    if client is None:
        abort(404, description=f"Aucun client « {client_id[:255]} ».")
    return client


def _lines(name: str) -> list[str]:
    text = str(request.form.get(name, ""))
    return [line.strip() for line in text.splitlines() if line.strip()][:MAX_URIS]


def _form_values() -> dict[str, Any]:
    return {
        "name": str(request.form.get("name", "")).strip()[:255],
        "token_endpoint_auth_method": str(request.form.get("auth_method", "")),
        "redirect_uris": _lines("redirect_uris"),
        "post_logout_redirect_uris": _lines("post_logout_redirect_uris"),
        "grant_types": [g for g in request.form.getlist("grant_types") if isinstance(g, str)],
    }


def _form(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return (
        page(
            template,
            methods=[(m, METHOD_LABELS.get(m, m)) for m in AUTH_METHODS],
            grant_choices=GRANT_CHOICES,
            **context,
        ),
        status,
    )


@bp.get("/clients")
def clients() -> ResponseReturnValue:
    return page("clients.html", clients=all_clients())


@bp.get("/clients/new")
def new_client() -> ResponseReturnValue:
    values = {
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
    }
    return _form("client_form.html", values=values, client_id="", creating=True)


@bp.post("/clients/new")
def create_client() -> ResponseReturnValue:
    client_id = str(request.form.get("client_id", "")).strip()
    values = _form_values()
    if not client_id:
        return _form(
            "client_form.html",
            400,
            values=values,
            client_id="",
            creating=True,
            error="Indiquez l'identifiant du client (client_id).",
        )
    if db.session.get(Client, client_id[:255]) is not None:
        return _form(
            "client_form.html",
            400,
            values=values,
            client_id=client_id,
            creating=True,
            error=f"Le client « {client_id} » existe déjà.",
        )
    method = values["token_endpoint_auth_method"]
    secret = new_secret(method) if method in METHODS_WITH_SECRET else None
    data = {"client_id": client_id, **values, "backchannel_token_delivery_mode": "poll"}
    if secret:
        data["secret"] = secret
    client = _upserted(data)
    if isinstance(client, str):
        return _form(
            "client_form.html",
            400,
            values=values,
            client_id=client_id,
            creating=True,
            error=f"Client refusé : {client}",
        )
    audited("admin_client_created", client_id=client.client_id, auth_method=method)
    db.session.commit()
    # Shown once, in this answer only: stored hashed (or sealed for client_secret_jwt).
    return page("client_created.html", client=client, secret=secret)


@bp.get("/clients/<client_id>")
def edit_client(client_id: str) -> ResponseReturnValue:
    client = _client(client_id)
    return _form(
        "client_form.html",
        values=client_to_dict(client),
        client_id=client.client_id,
        creating=False,
        client=client,
    )


@bp.post("/clients/<client_id>")
def update_client(client_id: str) -> ResponseReturnValue:
    client = _client(client_id)
    values = _form_values()
    data = {**client_to_dict(client, with_hash=True), **values}
    method = values["token_endpoint_auth_method"]
    # As ``psc-idp clients update``: each method keeps only the form of secret it can use, and
    # a client moving to a method its stored secret cannot serve gets a new one, shown once.
    data.pop("secret_hash" if method == SECRET_JWT else "secret_sealed", None)
    kept = data.get("secret_sealed") if method == SECRET_JWT else data.get("secret_hash")
    secret = None
    if method not in METHODS_WITH_SECRET:
        data.pop("secret_hash", None)
    elif not kept:
        secret = new_secret(method)
        data["secret"] = secret
    client = _upserted(data)
    if isinstance(client, str):
        return _form(
            "client_form.html",
            400,
            values=values,
            client_id=client_id,
            creating=False,
            client=_client(client_id),
            error=f"Modification refusée : {client}",
        )
    audited(
        "admin_client_updated",
        client_id=client.client_id,
        auth_method=method,
        new_secret=bool(secret),
    )
    db.session.commit()
    if secret:
        return page("client_created.html", client=client, secret=secret)
    return redirect(url_for("admin.clients"))


def _upserted(data: dict) -> Client | str:
    """The client registered from ``data`` as the realm file and the CLI register it, or why
    it was refused (nothing kept)."""
    try:
        client, _ = upsert_client(data)
    except InvalidClient as error:
        db.session.rollback()
        return str(error)
    return client


@bp.post("/clients/<client_id>/disable")
def disable_client(client_id: str) -> ResponseReturnValue:
    client = _client(client_id)
    question = (
        f"Désactiver le client « {client.client_id} » ? Ses jetons cessent d'être acceptés et "
        "il ne peut plus en obtenir."
    )
    asked = confirmed(question, url_for("admin.clients"))
    if asked is not None:
        return asked
    client.enabled = False
    audited("admin_client_disabled", client_id=client.client_id)
    db.session.commit()
    return redirect(url_for("admin.clients"))


@bp.post("/clients/<client_id>/enable")
def enable_client(client_id: str) -> ResponseReturnValue:
    client = _client(client_id)
    client.enabled = True
    audited("admin_client_enabled", client_id=client.client_id)
    db.session.commit()
    return redirect(url_for("admin.clients"))
