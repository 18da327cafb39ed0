"""Printing for commands: JSON for scripts (``--json``), YAML-ish text for people."""

from __future__ import annotations

import json
from typing import Any

import click
import yaml


def emit(data: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip())


def fail(message: str) -> None:
    raise click.ClickException(message)


class Refused(click.ClickException):
    """Exit status 2, as for a usage error: the input (a realm file), not the server, must
    change. Printed in French, like every message of the command line."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", file=file, err=True)
