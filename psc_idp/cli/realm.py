"""``psc-idp realm import FILE`` / ``psc-idp realm export``."""

from __future__ import annotations

import json

import click
import yaml
from flask.cli import AppGroup

from psc_idp.cli.output import Refused, emit, fail
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.realm.loader import RealmInvalid, export_realm, import_realm, read_realm_file

realm_cli = AppGroup("realm", help="Importer ou exporter le fichier de realm (clients, annuaire).")


@realm_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
def import_command(path: str, as_json: bool) -> None:
    """Importer FILE (JSON ou YAML). Idempotent ; rien n'est importé au moindre problème,
    tous sont listés avec leur place (et ligne) dans le fichier."""
    try:
        report = import_realm(read_realm_file(path))
    except RealmInvalid as error:
        db.session.rollback()
        if as_json:
            emit({"imported": False, "errors": error.problems.as_list()}, True)
            raise SystemExit(Refused.exit_code) from None
        raise Refused(str(error)) from None
    except ValueError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    emit(report.as_dict(), as_json)


@realm_cli.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def check_command(path: str) -> None:
    """Vérifier FILE sans rien importer (pour la CI) : mêmes contrôles que « import »."""
    try:
        read_realm_file(path)
    except RealmInvalid as error:
        raise Refused(str(error)) from None
    except ValueError as error:
        fail(str(error))
    click.echo(f"{path} : fichier de realm valide.")


@realm_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True))
def export_command(fmt: str, output: str | None) -> None:
    """Exporter le realm (secrets sous forme de hachés)."""
    data = export_realm(current_settings())
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
    else:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text.rstrip())
