"""``psc-idp clients add|list|show|remove``."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from psc_idp.cli.output import emit, fail
from psc_idp.extensions import db
from psc_idp.protocol.clients import (
    SECRET_METHODS,
    InvalidClient,
    all_clients,
    client_to_dict,
    remove_client,
    upsert_client,
)
from psc_idp.protocol.models import Client

clients_cli = AppGroup(
    "clients", help="Gérer les clients OpenID Connect (fournisseurs de service)."
)


@clients_cli.command("add")
@click.argument("client_id")
@click.option("--name", default="", help="Nom affiché sur la page de connexion.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="URI de retour (exacte).")
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True)
@click.option(
    "--auth-method",
    type=click.Choice(
        ["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "none"]
    ),
    default="client_secret_basic",
)
@click.option("--secret", help="Secret imposé (sinon généré et affiché une seule fois).")
@click.option("--jwks-uri")
@click.option("--tls-subject-dn", help="tls_client_auth : DN attendu du certificat (RFC 4514).")
@click.option("--bound-tokens", is_flag=True, help="Jetons liés au certificat (cnf.x5t#S256).")
@click.option("--grant-type", "grant_types", multiple=True)
@click.option(
    "--delivery-mode",
    type=click.Choice(["poll", "ping"]),
    default="poll",
    help="CIBA : livraison des jetons (poll comme PSC, ou ping).",
)
@click.option("--notification-endpoint", help="CIBA ping : URL notifiée à la fin de la demande.")
@click.option("--json", "as_json", is_flag=True)
def add(
    client_id,
    name,
    redirect_uris,
    post_logout_uris,
    auth_method,
    secret,
    jwks_uri,
    tls_subject_dn,
    bound_tokens,
    grant_types,
    delivery_mode,
    notification_endpoint,
    as_json,
):
    """Ajouter ou mettre à jour CLIENT_ID."""
    if auth_method in SECRET_METHODS and not secret:
        secret = secrets.token_urlsafe(32)
    data = {
        "client_id": client_id,
        "name": name,
        "redirect_uris": list(redirect_uris),
        "post_logout_redirect_uris": list(post_logout_uris),
        "token_endpoint_auth_method": auth_method,
        "grant_types": list(grant_types) or ["authorization_code", "refresh_token"],
    }
    if secret:
        data["secret"] = secret
    if jwks_uri:
        data["jwks_uri"] = jwks_uri
    if tls_subject_dn:
        data["tls_client_auth_subject_dn"] = tls_subject_dn
    data["tls_client_certificate_bound_access_tokens"] = bound_tokens
    data["backchannel_token_delivery_mode"] = delivery_mode
    if notification_endpoint:
        data["backchannel_client_notification_endpoint"] = notification_endpoint
    try:
        client, _ = upsert_client(data)
    except InvalidClient as error:
        fail(str(error))
    db.session.commit()
    shown = client_to_dict(client)
    if secret and auth_method in SECRET_METHODS:
        shown["client_secret"] = secret  # shown once: only its hash is stored
    emit(shown, as_json)


@clients_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Lister les clients."""
    rows = [
        {"client_id": c.client_id, "name": c.name, "auth": c.token_endpoint_auth_method}
        for c in all_clients()
    ]
    if as_json:
        emit(rows, True)
        return
    for row in rows:
        click.echo(f"{row['client_id']:<30} {row['auth']:<22} {row['name']}")


@clients_cli.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def show(client_id: str, as_json: bool) -> None:
    """Afficher un client."""
    client = db.session.get(Client, client_id)
    if client is None:
        fail(f"client inconnu : {client_id}")
    emit(client_to_dict(client), as_json)


@clients_cli.command("remove")
@click.argument("client_id")
def remove(client_id: str) -> None:
    """Supprimer un client (et ses jetons)."""
    if not remove_client(client_id):
        fail(f"client inconnu : {client_id}")
    db.session.commit()
    click.echo(f"client supprimé : {client_id}")
