"""``psc-idp admin add|list|remove|reset-totp``: the console's administrators."""

from __future__ import annotations

import io
import sys

import click
import qrcode
from flask.cli import AppGroup

from psc_idp import audit
from psc_idp.admin import accounts
from psc_idp.admin.models import AdminAccount
from psc_idp.cli.output import emit, fail
from psc_idp.directory.national_id import InvalidNationalId, parse_national_id
from psc_idp.extensions import db
from psc_idp.timeutil import iso_utc

admin_cli = AppGroup("admin", help="Administrateurs de la console /admin (mot de passe et TOTP).")


def terminal_qr(uri: str) -> str:
    """The URI as a QR code in text, for the authenticator app to scan from the terminal."""
    code = qrcode.QRCode(border=1)
    code.add_data(uri)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmation")


def _national_id(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_national_id(value).value
    except InvalidNationalId as error:
        fail(f"identifiant national invalide : {error}")
    return None


def _show_totp(login: str, uri: str, as_json: bool) -> None:
    if as_json:
        emit({"login": login, "otpauth_uri": uri}, True)
        return
    click.echo(f"Administrateur : {login}")
    click.echo("Enregistrez ce secret dans votre application TOTP (affiché une seule fois) :")
    click.echo(uri)
    click.echo(terminal_qr(uri))


@admin_cli.command("add")
@click.argument("login")
@click.option("--national-id", help="Identifiant national de la carte CPS de l'administrateur.")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
@click.option("--json", "as_json", is_flag=True)
def add(login: str, national_id: str | None, password_stdin: bool, as_json: bool) -> None:
    """Créer l'administrateur LOGIN ; affiche l'URI otpauth:// et son QR code."""
    nid = _national_id(national_id)
    password = _read_password(password_stdin)
    try:
        created = accounts.create(login, password, nid)
    except accounts.AccountError as error:
        fail(str(error))
    audit.record("admin_account_created", nid, means="admin", actor="cli", login=login)
    db.session.commit()
    _show_totp(created.account.login, created.otpauth_uri, as_json)


@admin_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Lister les administrateurs."""
    rows = [
        {
            "login": a.login,
            "national_id": a.national_id,
            "created_at": iso_utc(a.created_at),
            "last_login_at": iso_utc(a.last_login_at) if a.last_login_at else None,
        }
        for a in accounts.all_accounts()
    ]
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo("Aucun administrateur : « psc-idp admin add LOGIN » crée le premier.")
    for row in rows:
        last = row["last_login_at"] or ""
        click.echo(f"{row['login']:<24} {row['national_id'] or '-':<14} {last}")


def _existing(login: str) -> AdminAccount:
    account = accounts.find(login)
    if account is None:
        fail(f"administrateur inconnu : {login}")
    return account


@admin_cli.command("remove")
@click.argument("login")
def remove(login: str) -> None:
    """Supprimer l'administrateur LOGIN (ses sessions prennent fin)."""
    account = _existing(login)
    accounts.remove(account)
    audit.record("admin_account_removed", None, means="admin", actor="cli", login=login)
    db.session.commit()
    click.echo(f"administrateur supprimé : {login}")


@admin_cli.command("reset-totp")
@click.argument("login")
@click.option("--json", "as_json", is_flag=True)
def reset_totp(login: str, as_json: bool) -> None:
    """Nouveau secret TOTP pour LOGIN (l'ancien cesse de valoir, ses sessions prennent fin)."""
    account = _existing(login)
    uri = accounts.reset_totp(account)
    audit.record("admin_totp_reset", None, means="admin", actor="cli", login=login)
    db.session.commit()
    _show_totp(login, uri, as_json)
