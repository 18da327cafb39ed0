"""``psc-idp keys list|rotate``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from psc_idp.cli.output import emit
from psc_idp.keystore.signing import SUPPORTED_ALGS

keys_cli = AppGroup("keys", help="Clés de signature des jetons et de chiffrement (JWE).")


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Lister les clés publiées dans le JWKS."""
    emit(current_app.extensions["psc_signing_keys"].jwks()["keys"], as_json)


@keys_cli.command("rotate")
@click.option("--alg", "algs", multiple=True, type=click.Choice(SUPPORTED_ALGS))
@click.option(
    "--encryption", is_flag=True, help="La clé de chiffrement des objets de requête (JWE)."
)
@click.option("--json", "as_json", is_flag=True)
def rotate(algs: tuple[str, ...], encryption: bool, as_json: bool) -> None:
    """Publier une nouvelle clé ; l'ancienne reste publiée jusqu'à l'expiration de ses jetons."""
    if encryption:
        keys = current_app.extensions["psc_encryption_keys"].rotate()
    else:
        keys = current_app.extensions["psc_signing_keys"].rotate(algs or SUPPORTED_ALGS)
    emit([{"kid": k.kid, "alg": k.alg} for k in keys], as_json)
