"""An administrator created with the CLI, and a browser logged in to the console."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask

PASSWORD = "un mot de passe assez long"


@dataclass
class Admin:
    login: str
    password: str
    totp: pyotp.TOTP

    def code(self, offset: int = 0) -> str:
        """The code of the step ``offset`` steps from now (each is accepted once)."""
        return self.totp.at(time.time() + 30 * offset)


def create_admin(app: Flask, national_id: str | None = None, login: str | None = None) -> Admin:
    login = login or f"adm-{uuid.uuid4().hex[:10]}"
    args = ["admin", "add", login, "--password-stdin", "--json"]
    if national_id:
        args += ["--national-id", national_id]
    result = app.test_cli_runner().invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    uri = json.loads(result.output)["otpauth_uri"]
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return Admin(login, PASSWORD, pyotp.TOTP(secret))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Console:
    """A browser on /admin (Flask's test client keeps its cookies)."""

    def __init__(self, app: Flask):
        self.app = app
        self.http = app.test_client()
        self.csrf = ""

    def login_form(self) -> str:
        return csrf_of(self.http.get("/admin/login").get_data(as_text=True))

    def login(self, admin: Admin, code: str | None = None, password: str | None = None) -> Any:
        token = self.login_form()
        response = self.http.post(
            "/admin/login",
            data={
                "csrf_token": token,
                "login": admin.login,
                "password": admin.password if password is None else password,
                "code": admin.code() if code is None else code,
            },
        )
        if response.status_code == 302 and response.location.endswith("/admin/"):
            self.csrf = csrf_of(self.http.get("/admin/").get_data(as_text=True))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, confirm: bool = False) -> Any:
        form = {"csrf_token": self.csrf, **(data or {})}
        if confirm:
            form["confirm"] = "oui"
        return self.http.post(path, data=form)


@pytest.fixture
def admin(app: Flask) -> Admin:
    return create_admin(app)


@pytest.fixture
def console(app: Flask, admin: Admin) -> Console:
    console = Console(app)
    response = console.login(admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return console


def admin_events(app: Flask, event: str, **detail: Any) -> list[Any]:
    """The audit rows of ``event`` whose detail has ``detail``, in the order they were written
    (by id: PostgreSQL returns an unordered select in any order)."""
    from sqlalchemy import select

    from psc_idp.audit import AuditEvent
    from psc_idp.extensions import db

    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)
        ).all()
        found = [r for r in rows if all((r.detail or {}).get(k) == v for k, v in detail.items())]
        db.session.remove()
        return found
