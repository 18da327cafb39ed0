"""The ``psc-idp`` command: one group per noun, each a thin layer over the package it drives."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    from psc_idp.cli.clients import clients_cli
    from psc_idp.cli.ecps import ecps_cli, outbox_command
    from psc_idp.cli.keys import keys_cli
    from psc_idp.cli.pki import cps_cli, pki_cli
    from psc_idp.cli.purge import purge
    from psc_idp.cli.realm import realm_cli
    from psc_idp.cli.serve import serve
    from psc_idp.directory.cli import directory_cli

    for command in (
        clients_cli,
        ecps_cli,
        outbox_command,
        keys_cli,
        cps_cli,
        pki_cli,
        realm_cli,
        directory_cli,
        serve,
        purge,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from psc_idp import create_app
    from psc_idp.keystore import ReadableSecretFile

    try:
        return create_app()
    except ReadableSecretFile as error:
        raise SystemExit(f"psc-idp: {error}") from None  # the message and its fix, no traceback


def main() -> None:
    cli = FlaskGroup(
        create_app=_create_app,
        add_default_commands=True,
        load_dotenv=False,
        set_debug_flag=False,
        help="psc-idp — émulateur de Pro Santé Connect (OpenID Connect).",
    )
    cli.main(prog_name="psc-idp")
