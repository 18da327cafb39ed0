"""``psc-idp clients add|update|list|show|remove``.

``add`` creates a client and refuses an existing one: replacing it whole would reset what the
command line does not repeat and rotate its secret behind the operator's back. ``update``
merges the options given into the stored client; its secret changes only with
``--rotate-secret`` (or ``--secret``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup

from psc_idp.cli.output import emit, fail
from psc_idp.extensions import db
from psc_idp.keystore.signing import SUPPORTED_ALGS
from psc_idp.protocol.client_auth.client_secret_jwt import METHOD as SECRET_JWT
from psc_idp.protocol.clients import (
    ENCRYPTION_FIELDS,
    METHODS_WITH_SECRET,
    InvalidClient,
    all_clients,
    client_to_dict,
    remove_client,
    upsert_client,
)
from psc_idp.protocol.encryption.algorithms import CONTENT_ENCRYPTION_ENCS, KEY_MANAGEMENT_ALGS
from psc_idp.protocol.models import Client

clients_cli = AppGroup(
    "clients", help="Gérer les clients OpenID Connect (fournisseurs de service)."
)

AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "client_secret_jwt",
    "tls_client_auth",
    "none",
]
#: Repeatable options and the description key each one fills (a given list replaces the
#: stored one).
LIST_OPTIONS = {
    "redirect_uris": "redirect_uris",
    "post_logout_uris": "post_logout_redirect_uris",
    "grant_types": "grant_types",
    "scopes": "scopes",
    "web_origins": "web_origins",
    "request_uris": "request_uris",
    "audiences": "audiences",
}
#: Single-valued options and their description keys.
VALUE_OPTIONS = {
    "name": "name",
    "auth_method": "token_endpoint_auth_method",
    "jwks_uri": "jwks_uri",
    "tls_subject_dn": "tls_client_auth_subject_dn",
    "bound_tokens": "tls_client_certificate_bound_access_tokens",
    "delivery_mode": "backchannel_token_delivery_mode",
    "notification_endpoint": "backchannel_client_notification_endpoint",
    "require_pkce": "require_pkce",
    "subject_type": "subject_type",
    "sector_identifier_uri": "sector_identifier_uri",
    "require_signed_request_object": "require_signed_request_object",
    "authorization_alg": "authorization_signed_response_alg",
    "backchannel_logout_uri": "backchannel_logout_uri",
    "backchannel_logout_session_required": "backchannel_logout_session_required",
    "frontchannel_logout_uri": "frontchannel_logout_uri",
    "frontchannel_logout_session_required": "frontchannel_logout_session_required",
    "dpop_bound_tokens": "dpop_bound_access_tokens",
    "userinfo_signed_response_alg": "userinfo_signed_response_alg",
    **{name: name for name in ENCRYPTION_FIELDS},
}
#: The JWE options: each field's name, as an option (``--id-token-encrypted-response-alg``).
ENCRYPTION_HELP = {
    "id_token_encrypted_response_alg": "Chiffrer l'ID token pour la clé du client (jwks).",
    "id_token_encrypted_response_enc": "Chiffrement du contenu de l'ID token (A128CBC-HS256).",
    "userinfo_encrypted_response_alg": "Chiffrer la réponse UserInfo pour la clé du client.",
    "userinfo_encrypted_response_enc": "Chiffrement du contenu de UserInfo (A128CBC-HS256).",
    "request_object_encryption_alg": "Exiger des objets de requête chiffrés avec cet alg.",
    "request_object_encryption_enc": "… et ce chiffrement du contenu.",
    "authorization_encrypted_response_alg": "Chiffrer les réponses JARM pour la clé du client.",
    "authorization_encrypted_response_enc": "Chiffrement du contenu des réponses JARM.",
}


def client_options(command: Callable) -> Callable:
    """The options ``add`` and ``update`` share; none has a default, so that ``update`` knows
    what was given (``add`` fills its own defaults)."""
    options = [
        click.option("--name", help="Nom affiché sur la page de connexion."),
        click.option(
            "--redirect-uri", "redirect_uris", multiple=True, help="URI de retour (exacte)."
        ),
        click.option(
            "--post-logout-redirect-uri",
            "post_logout_uris",
            multiple=True,
            help="URI de retour après déconnexion (exacte).",
        ),
        click.option("--auth-method", type=click.Choice(AUTH_METHODS)),
        click.option("--secret", help="Secret imposé (sinon généré et affiché une seule fois)."),
        click.option("--jwks-uri"),
        click.option(
            "--tls-subject-dn", help="tls_client_auth : DN attendu du certificat (RFC 4514)."
        ),
        click.option(
            "--bound-tokens/--no-bound-tokens",
            default=None,
            help="Jetons liés au certificat (cnf.x5t#S256).",
        ),
        click.option("--grant-type", "grant_types", multiple=True),
        click.option(
            "--scope", "scopes", multiple=True, help="Scope autorisé (répétable, ex. openid)."
        ),
        click.option(
            "--web-origin",
            "web_origins",
            multiple=True,
            help="Origine web autorisée (CORS), ex. https://app.example ; « + » : les origines "
            "des URI de retour.",
        ),
        click.option(
            "--require-pkce/--no-require-pkce",
            default=None,
            help="Exiger PKCE d'un client confidentiel (toujours exigé d'un client public).",
        ),
        click.option(
            "--delivery-mode",
            type=click.Choice(["poll", "ping"]),
            help="CIBA : livraison des jetons (poll comme PSC, ou ping).",
        ),
        click.option(
            "--notification-endpoint", help="CIBA ping : URL notifiée à la fin de la demande."
        ),
        click.option(
            "--subject-type",
            type=click.Choice(["public", "pairwise"]),
            help="sub public (comme PSC) ou pairwise (propre au secteur du client).",
        ),
        click.option(
            "--sector-identifier-uri",
            help="pairwise : URL d'un tableau JSON listant les URI de retour ; son hôte est le "
            "secteur.",
        ),
        click.option(
            "--audience",
            "audiences",
            multiple=True,
            help="API (apis[].audience) pour laquelle le client peut échanger ses jetons PSC "
            "(échange de jetons, répétable).",
        ),
        click.option(
            "--request-uri",
            "request_uris",
            multiple=True,
            help="URL https d'où un objet de requête signé peut être lu (request_uri, "
            "répétable) ; aucune autre n'est jamais lue.",
        ),
        click.option(
            "--require-signed-request-object/--no-require-signed-request-object",
            default=None,
            help="Exiger un objet de requête signé (request, request_uri ou PAR avec request).",
        ),
        click.option(
            "--authorization-signed-response-alg",
            "authorization_alg",
            type=click.Choice(list(SUPPORTED_ALGS)),
            help="JARM (response_mode=jwt…) : algorithme de la réponse signée (RS256 par défaut).",
        ),
        click.option(
            "--backchannel-logout-uri",
            help="URL https où un jeton de déconnexion (logout_token) est envoyé à la fin de "
            "la session.",
        ),
        click.option(
            "--backchannel-logout-session-required/--no-backchannel-logout-session-required",
            default=None,
            help="Le client a besoin du sid dans le jeton de déconnexion (toujours présent).",
        ),
        click.option(
            "--frontchannel-logout-uri",
            help="URL https chargée dans une iframe de la page de déconnexion.",
        ),
        click.option(
            "--frontchannel-logout-session-required/--no-frontchannel-logout-session-required",
            default=None,
            help="Ajouter iss et sid à l'URL de déconnexion front-channel.",
        ),
        click.option(
            "--dpop-bound-tokens/--no-dpop-bound-tokens",
            default=None,
            help="Exiger une preuve DPoP à chaque demande de jeton (cnf.jkt, RFC 9449).",
        ),
        click.option(
            "--userinfo-signed-response-alg",
            type=click.Choice(SUPPORTED_ALGS),
            help="Réponse UserInfo signée (application/jwt).",
        ),
        *(
            click.option(
                f"--{name.replace('_', '-')}",
                type=click.Choice(
                    KEY_MANAGEMENT_ALGS if name.endswith("_alg") else CONTENT_ENCRYPTION_ENCS
                ),
                help=help_text,
            )
            for name, help_text in ENCRYPTION_HELP.items()
        ),
        click.option("--json", "as_json", is_flag=True, help="Sortie JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def new_secret(method: str) -> str:
    # 64 octets for client_secret_jwt: long enough a key for HS512 (RFC 7518 §3.2).
    return secrets.token_urlsafe(48 if method == SECRET_JWT else 32)


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The description keys of the options actually given."""
    data = {key: list(options[name]) for name, key in LIST_OPTIONS.items() if options[name]}
    data.update(
        {key: options[name] for name, key in VALUE_OPTIONS.items() if options[name] is not None}
    )
    return data


def shown(client: Client, secret: str | None = None) -> dict[str, Any]:
    """What the commands print: the stored client, PKCE as it is enforced, a new secret once."""
    data = client_to_dict(client)
    if client.token_endpoint_auth_method == "none":
        data["require_pkce"] = True  # a public client always needs PKCE (authorize_checks)
    if secret:
        data["client_secret"] = secret  # shown once: stored hashed (or sealed)
    return data


def _save(data: dict[str, Any], secret: str | None, as_json: bool) -> None:
    try:
        client, _ = upsert_client(data)
    except InvalidClient as error:
        fail(str(error))
    db.session.commit()
    emit(shown(client, secret), as_json)


@clients_cli.command("add")
@click.argument("client_id")
@client_options
def add(client_id: str, secret: str | None, as_json: bool, **options: Any) -> None:
    """Ajouter CLIENT_ID (refusé s'il existe : voir « clients update »)."""
    if db.session.get(Client, client_id) is not None:
        fail(
            f"le client {client_id} existe déjà : « psc-idp clients update {client_id} » "
            "modifie les options données (et --rotate-secret change le secret)."
        )
    data = {
        "client_id": client_id,
        "name": "",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "backchannel_token_delivery_mode": "poll",
        **_given(options),
    }
    method = data["token_endpoint_auth_method"]
    if method in METHODS_WITH_SECRET:
        secret = secret or new_secret(method)
        data["secret"] = secret
    elif secret:
        fail(f"--secret ne sert qu'avec {' ou '.join(sorted(METHODS_WITH_SECRET))}.")
    _save(data, secret, as_json)


@clients_cli.command("update")
@click.argument("client_id")
@client_options
@click.option(
    "--rotate-secret", is_flag=True, help="Générer un nouveau secret (affiché une seule fois)."
)
def update(
    client_id: str, secret: str | None, rotate_secret: bool, as_json: bool, **options: Any
) -> None:
    """Modifier CLIENT_ID : seules les options données changent ; le secret est conservé."""
    client = db.session.get(Client, client_id)
    if client is None:
        fail(f"client inconnu : {client_id} (« psc-idp clients add » pour le créer)")
    if secret and rotate_secret:
        fail("--secret et --rotate-secret s'excluent : choisissez l'un ou l'autre.")
    data = {**client_to_dict(client, with_hash=True), **_given(options)}
    method = data["token_endpoint_auth_method"]
    # A hashed secret cannot key an HMAC, nor a sealed one be presented as is: each method
    # keeps its own form only.
    data.pop("secret_hash" if method == SECRET_JWT else "secret_sealed", None)
    kept = data.get("secret_sealed") if method == SECRET_JWT else data.get("secret_hash")
    if method not in METHODS_WITH_SECRET:
        if secret or rotate_secret:
            fail(f"{client_id} ({method}) n'a pas de secret.")
        data.pop("secret_hash", None)
    elif rotate_secret or (not secret and not kept):
        # Rotation asked for, or a client moves to a method its secret cannot serve.
        secret = new_secret(method)
    if secret:
        data.pop("secret_hash", None)
        data.pop("secret_sealed", None)
        data["secret"] = secret
    _save(data, secret, as_json)


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
    emit(shown(client), as_json)


@clients_cli.command("remove")
@click.argument("client_id")
def remove(client_id: str) -> None:
    """Supprimer un client (et ses jetons)."""
    if not remove_client(client_id):
        fail(f"client inconnu : {client_id}")
    db.session.commit()
    click.echo(f"client supprimé : {client_id}")
