"""``psc-idp directory api-key add|list|remove``: the keys of the FHIR directory API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from psc_idp.directory.fhir import api_keys
from psc_idp.timeutil import local_display

api_key_cli = AppGroup("api-key", help="Clés de l'API FHIR de l'annuaire (en-tête ESANTE-API-KEY).")


@api_key_cli.command("add")
@click.argument("label")
def add(label: str) -> None:
    """Crée une clé nommée LABEL et l'affiche (une seule fois : seule son empreinte est
    conservée). Dès qu'une clé existe, l'API FHIR exige l'en-tête ESANTE-API-KEY."""
    label = label.strip()
    if not label or len(label) > 100 or not label.isprintable():
        click.echo("Nom de clé invalide (1 à 100 caractères imprimables).", err=True)
        raise SystemExit(1)
    if any(key.label == label for key in api_keys.listing()):
        click.echo(f"Une clé nommée « {label} » existe déjà.", err=True)
        raise SystemExit(1)
    key = api_keys.add(label)
    click.echo(key)
    click.echo(
        f"Clé « {label} » créée. Notez-la maintenant : elle ne sera plus affichée.", err=True
    )


@api_key_cli.command("list")
def list_command() -> None:
    """Liste les clés (nom et date de création ; jamais la clé elle-même)."""
    keys = api_keys.listing()
    if not keys:
        click.echo("Aucune clé : l'API FHIR est ouverte sans clé.")
    for key in keys:
        click.echo(f"{key.label}\tcréée le {local_display(key.created_at)}")


@api_key_cli.command("remove")
@click.argument("label")
def remove(label: str) -> None:
    """Supprime la clé nommée LABEL : les appels qui la présentent sont refusés aussitôt."""
    if not api_keys.remove(label):
        click.echo(f"Aucune clé nommée « {label} ».", err=True)
        raise SystemExit(1)
    click.echo(f"Clé « {label} » supprimée.")
