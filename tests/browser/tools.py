"""What the browser tests of the admin console and the developer tools do alike: an
administrator made with the CLI, the console's login form, keyboard presses, the
Content-Security-Policy violations the console reports, the debugger's code flow."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
from playwright.sync_api import expect

PASSWORD = "un mot de passe assez long"
TOTP_LABEL = "Code à usage unique (application TOTP, 6 chiffres)"


def add_admin(server) -> tuple[str, pyotp.TOTP]:
    """``psc-idp admin add`` as an operator runs it: the login and its TOTP generator."""
    login = f"chromium-{uuid.uuid4().hex[:6]}"
    command = [str(Path(sys.executable).with_name("psc-idp")), "admin", "add", login]
    done = subprocess.run(
        [*command, "--password-stdin", "--json"],
        input=PASSWORD + "\n",
        env=server.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    uri = json.loads(done.stdout)["otpauth_uri"]
    return login, pyotp.TOTP(parse_qs(urlsplit(uri).query)["secret"][0])


def fill_admin_login(page, server, login: str, totp: pyotp.TOTP) -> None:
    """The login form on the page, filled by its labels and sent with Enter."""
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    code = page.get_by_label(TOTP_LABEL)
    code.fill(totp.now())
    code.press("Enter")
    expect(page).to_have_url(server.url("/admin/"))


def log_in_as_new_admin(page, server) -> str:
    login, totp = add_admin(server)
    page.goto(server.url("/admin/login"))
    fill_admin_login(page, server, login, totp)
    return login


def press(locator, key: str = "Enter") -> None:
    locator.focus()
    locator.press(key)


def csp_violations(page) -> list[str]:
    """The violations the browser reports on its console, from now on."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def debugger_code_flow(page, server, national_id: str = "899700218896") -> None:
    """The debugger's code flow with the keyboard only, through la mire's test identity, up
    to the run page."""
    page.goto(server.url("/dev/debugger/"))
    page.get_by_label("Code d'autorisation + PKCE").focus()
    page.keyboard.press("Space")
    field = page.get_by_label("login_hint (identifiant national)", exact=True)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(national_id)
    page.get_by_role("button", name="Lancer le flux").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/wallet/login/**")
    page.locator("a.means", has_text="Identité de test").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/dev")
    page.get_by_role("button", name="Se connecter avec cette identité").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/dev/debugger/runs/*")
