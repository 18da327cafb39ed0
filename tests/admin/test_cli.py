"""``psc-idp admin add|list|remove|reset-totp``."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pyotp
from sqlalchemy import select

from psc_idp.admin.models import AdminAccount, AdminSession
from psc_idp.extensions import db
from tests.admin.conftest import PASSWORD, Admin, Console, create_admin


def _login() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


def test_add_prompts_for_the_password_and_prints_the_uri_and_a_qr_code(app):
    login = _login()
    result = app.test_cli_runner().invoke(
        args=["admin", "add", login], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    assert f"admin:{login}" in uri and "secret=" in uri
    assert "█" in result.output or "▀" in result.output  # the terminal QR code
    with app.app_context():
        account = db.session.get(AdminAccount, login)
        secret = parse_qs(urlsplit(uri).query)["secret"][0]
        assert PASSWORD not in account.password_hash and account.password_hash.startswith("scrypt$")
        assert secret not in account.totp_sealed
        db.session.remove()
    admin = Admin(login, PASSWORD, pyotp.TOTP(secret))
    assert Console(app).login(admin).status_code == 302


def test_add_refuses_bad_input(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["admin", "add", _login(), "--password-stdin"], input="court\n")
    assert short.exit_code != 0 and "12 caractères" in short.output
    bad_login = runner.invoke(
        args=["admin", "add", "Bad Login!", "--password-stdin"], input=PASSWORD
    )
    assert bad_login.exit_code != 0 and "Identifiant invalide" in bad_login.output
    bad_id = runner.invoke(
        args=["admin", "add", _login(), "--national-id", "899700218897", "--password-stdin"],
        input=PASSWORD,
    )
    assert bad_id.exit_code != 0 and "identifiant national invalide" in bad_id.output
    existing = create_admin(app)
    again = runner.invoke(args=["admin", "add", existing.login, "--password-stdin"], input=PASSWORD)
    assert again.exit_code != 0 and "existe déjà" in again.output


def test_list_and_remove(app):
    admin = create_admin(app)
    listed = app.test_cli_runner().invoke(args=["admin", "list", "--json"])
    assert admin.login in [row["login"] for row in json.loads(listed.output)]
    console = Console(app)
    console.login(admin)
    removed = app.test_cli_runner().invoke(args=["admin", "remove", admin.login])
    assert removed.exit_code == 0
    assert console.get("/admin/clients").status_code == 302  # its session ended
    listed = app.test_cli_runner().invoke(args=["admin", "list", "--json"])
    assert admin.login not in [row["login"] for row in json.loads(listed.output)]
    unknown = app.test_cli_runner().invoke(args=["admin", "remove", admin.login])
    assert unknown.exit_code != 0 and "inconnu" in unknown.output


def test_reset_totp_replaces_the_secret_and_ends_sessions(app):
    admin = create_admin(app)
    console = Console(app)
    console.login(admin)
    result = app.test_cli_runner().invoke(args=["admin", "reset-totp", admin.login, "--json"])
    assert result.exit_code == 0, result.output
    uri = json.loads(result.output)["otpauth_uri"]
    fresh = pyotp.TOTP(parse_qs(urlsplit(uri).query)["secret"][0])
    assert console.get("/admin/clients").status_code == 302
    with app.app_context():
        sessions = db.session.scalars(select(AdminSession).where(AdminSession.login == admin.login))
        assert all(s.ended_at is not None for s in sessions)
        db.session.remove()
    old = Console(app).login(admin, code=admin.code(1))
    assert old.status_code == 401
    renewed = Admin(admin.login, PASSWORD, fresh)
    assert Console(app).login(renewed, code=renewed.code(-1)).status_code == 302
