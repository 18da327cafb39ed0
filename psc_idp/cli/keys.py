"""``psc-idp keys list|rotate``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from psc_idp.api_as.apis import find_api
from psc_idp.api_as.keys import api_signing_keys
from psc_idp.cli.output import Refused, emit
from psc_idp.keystore.signing import SUPPORTED_ALGS, SigningKeys

keys_cli = AppGroup("keys", help="Clés de signature des jetons et de chiffrement (JWE).")


API_OPTION = click.option(
    "--api",
    "audience",
    help="Les clés du serveur d'autorisation de cette API (apis[].audience), non du royaume.",
)


def _signing_keys(audience: str | None) -> SigningKeys:
    if audience is None:
        return current_app.extensions["psc_signing_keys"]
    if find_api(audience) is None:
        raise Refused(f"Aucune API « {audience} » dans le royaume (apis: du fichier de royaume).")
    return api_signing_keys(audience)


@keys_cli.command("list")
@API_OPTION
@click.option("--json", "as_json", is_flag=True)
def list_command(audience: str | None, as_json: bool) -> None:
    """Lister les clés publiées dans le JWKS."""
    emit(_signing_keys(audience).jwks()["keys"], as_json)


@keys_cli.command("rotate")
@click.option("--alg", "algs", multiple=True, type=click.Choice(SUPPORTED_ALGS))
@click.option(
    "--encryption", is_flag=True, help="La clé de chiffrement des objets de requête (JWE)."
)
@API_OPTION
@click.option("--json", "as_json", is_flag=True)
def rotate(algs: tuple[str, ...], encryption: bool, audience: str | None, as_json: bool) -> None:
    """Publier une nouvelle clé ; l'ancienne reste publiée jusqu'à l'expiration de ses jetons."""
    if encryption:
        keys = current_app.extensions["psc_encryption_keys"].rotate()
    else:
        keys = _signing_keys(audience).rotate(algs or SUPPORTED_ALGS)
    emit([{"kid": k.kid, "alg": k.alg} for k in keys], as_json)
