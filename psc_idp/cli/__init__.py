"""The ``psc-idp`` command: one group per noun, each a thin layer over the package it drives."""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version

import click
from flask import Flask
from flask.cli import FlaskGroup, routes_command, shell_command

#: Flask's own options load another app or a .env file: psc-idp serves one app, configured by
#: PSC_* variables, so they would only mislead.
_FLASK_OPTIONS = {"env_file", "app", "debug"}


def register_commands(app: Flask) -> None:
    from psc_idp.admin.cli import admin_cli
    from psc_idp.cli.audit import audit_command
    from psc_idp.cli.clients import clients_cli
    from psc_idp.cli.database import db_cli
    from psc_idp.cli.keys import keys_cli
    from psc_idp.cli.pki import cps_cli, pki_cli
    from psc_idp.cli.purge import purge
    from psc_idp.cli.realm import realm_cli
    from psc_idp.cli.serve import serve
    from psc_idp.cli.unlock import unlock
    from psc_idp.devtools.journal.cli import requests_command
    from psc_idp.devtools.scenarios.cli import scenarios_cli, token_cli
    from psc_idp.directory.cli import directory_cli
    from psc_idp.means.card.cli import cps_approve
    from psc_idp.means.ecps.cli import ecps_cli, outbox_command
    from psc_idp.means.fi_tiers.cli import pairings_cli

    # Each means owns its commands; the card's join the PKI's ``cps`` group (card certificates).
    cps_cli.add_command(cps_approve)

    for command in (
        clients_cli,
        ecps_cli,
        outbox_command,
        pairings_cli,
        keys_cli,
        cps_cli,
        pki_cli,
        realm_cli,
        directory_cli,
        serve,
        purge,
        db_cli,
        audit_command,
        unlock,
        requests_command,
        scenarios_cli,
        token_cli,
        admin_cli,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from sqlalchemy.exc import OperationalError

    from psc_idp import create_app
    from psc_idp.cli.output import Refused
    from psc_idp.config import UnreadableSettingFile
    from psc_idp.keystore import ReadableSecretFile
    from psc_idp.realm.loader import RealmInvalid

    try:
        return create_app()
    except RealmInvalid as error:
        # PSC_REALM_FILE is imported at start: its problems, not a traceback.
        raise Refused(f"PSC_REALM_FILE : {error}") from None
    except (ReadableSecretFile, UnreadableSettingFile) as error:
        raise Refused(str(error)) from None  # the message and its fix, no traceback
    except OperationalError as error:
        # A database that cannot be opened at start (read-only file system, missing folder,
        # server down): what the driver said, and where to look.
        raise Refused(
            f"base de données inaccessible : {error.orig}. Vérifiez PSC_DATABASE_URL, que le"
            " serveur répond et que le dossier de la base est accessible en écriture (pas un"
            " système de fichiers en lecture seule)."
        ) from None


def package_version() -> str:
    try:
        return version("psc-idp")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "inconnue"


def _hidden(command: click.Command) -> click.Command:
    # Still usable by developers (``psc-idp routes``), but not listed beside psc-idp's own.
    command = copy.copy(command)
    command.hidden = True
    return command


def build_cli() -> FlaskGroup:
    """The ``psc-idp`` group: psc-idp's commands only; ``--version`` is psc-idp's version."""
    cli = FlaskGroup(
        create_app=_create_app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        set_debug_flag=False,
        help="psc-idp — émulateur de Pro Santé Connect (OpenID Connect).",
    )
    cli.params = [p for p in cli.params if p.name not in _FLASK_OPTIONS]
    click.version_option(
        package_version(),
        "--version",
        prog_name="psc-idp",
        message="%(prog)s %(version)s",
        help="Afficher la version de psc-idp.",
    )(cli)
    cli.add_command(_hidden(shell_command))
    cli.add_command(_hidden(routes_command))
    return cli


def main() -> None:
    build_cli().main(prog_name="psc-idp")
