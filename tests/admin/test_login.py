"""Logging in to the console: password and TOTP (once per code), the card, lockout, rate
limit, CSRF, the session's cookie and idle timeout, logout."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from psc_idp import lockout
from psc_idp.admin import accounts
from psc_idp.admin.models import AdminSession
from psc_idp.extensions import db
from psc_idp.timeutil import now
from tests.admin.conftest import Console, admin_events, create_admin, csrf_of
from tests.helpers import DOCTOR, Browser

NURSE = "899700100490"


def test_password_and_totp_open_a_session_in_the_database(app, admin):
    console = Console(app)
    response = console.login(admin)
    assert response.status_code == 302 and response.location.endswith("/admin/")
    cookie = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("PSC_ADMIN="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/admin" in session_cookie
    value = session_cookie.split(";")[0].split("=", 1)[1]
    with app.app_context():
        stored = db.session.scalars(select(AdminSession).where(AdminSession.login == admin.login))
        rows = list(stored)
        assert len(rows) == 1 and rows[0].cookie_hash != value and value not in rows[0].cookie_hash
        db.session.remove()
    home = console.get("/admin/")
    assert home.status_code == 200 and admin.login in home.get_data(as_text=True)
    assert admin_events(app, "admin_login", actor=admin.login, method="password+totp")


def test_a_secure_request_gets_a_secure_cookie(app, admin):
    console = Console(app)
    token = csrf_of(console.http.get("/admin/login").get_data(as_text=True))
    response = console.http.post(
        "/admin/login",
        base_url="https://localhost",
        data={"csrf_token": token, "login": admin.login, "password": admin.password,
              "code": admin.code()},
    )  # fmt: skip
    assert response.status_code == 302
    assert any("Secure" in c for c in response.headers.getlist("Set-Cookie"))


def test_wrong_password_and_wrong_code_are_refused_in_french(app, admin):
    console = Console(app)
    wrong_password = console.login(admin, password="pas le bon mot de passe")
    assert wrong_password.status_code == 401
    assert "incorrect" in wrong_password.get_data(as_text=True)
    wrong_code = console.login(admin, code="000000" if admin.code() != "000000" else "111111")
    assert wrong_code.status_code == 401
    garbage = console.login(admin, code="12ab")
    assert garbage.status_code == 401
    reasons = [
        e.detail["reason"] for e in admin_events(app, "admin_login_failed", login=admin.login)
    ]
    assert reasons == ["password", "totp", "totp"]
    assert console.get("/admin/clients").status_code == 302


def test_a_code_is_accepted_once(app, admin):
    code = admin.code()
    assert Console(app).login(admin, code=code).status_code == 302
    replay = Console(app).login(admin, code=code)
    assert replay.status_code == 401
    # The next step's code still works (within the window).
    assert Console(app).login(admin, code=admin.code(1)).status_code == 302


def test_a_wrong_password_does_not_spend_the_code(app, admin):
    code = admin.code()
    assert Console(app).login(admin, code=code, password="mauvais mot de passe").status_code == 401
    assert Console(app).login(admin, code=code).status_code == 302


def test_concurrent_uses_of_a_step_let_one_through(app, admin):
    with app.app_context():
        step = int(now().timestamp()) // 30 + 1000
    results: list[bool] = []

    def use() -> None:
        with app.app_context():
            results.append(accounts.use_step(admin.login, step))
            db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == [False, False, False, True]


def test_the_login_form_needs_its_csrf_token(app, admin):
    console = Console(app)
    console.login_form()
    response = console.http.post(
        "/admin/login",
        data={"login": admin.login, "password": admin.password, "code": admin.code()},
    )
    assert response.status_code == 400 and "expiré" in response.get_data(as_text=True)


def test_failures_lock_the_login(make_app):
    app = make_app(lockout_enabled=True, lockout_quick_login_check_ms=0)
    target = create_admin(app)
    console = Console(app)
    for _ in range(5):
        assert console.login(target, password="mauvais mot de passe").status_code == 401
    locked = console.login(target)
    assert locked.status_code == 429 and "échecs pour cet identifiant" in locked.get_data(
        as_text=True
    )
    with app.app_context():
        assert lockout.is_locked("admin", target.login)
        lockout.unlock("admin", target.login)
        db.session.commit()
    assert console.login(target, code=target.code(1)).status_code == 302


def test_logins_are_limited_per_address(make_app):
    app = make_app(rate_limit_admin_login="2/min")
    target = create_admin(app)
    console = Console(app)
    assert console.login(target, password="mauvais mot de passe").status_code == 401
    assert console.login(target, password="mauvais mot de passe").status_code == 401
    refused = console.login(target)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "console d&#39;administration" in refused.get_data(as_text=True)


def _card_login(app, browser: Browser, national_id: str):
    csrf = csrf_of(browser.http.get("/admin/login").get_data(as_text=True))
    started = browser.http.post("/admin/login/card", data={"csrf_token": csrf})
    assert started.status_code == 302 and "/wallet/login/" in started.location
    login_page = started.location.split("?")[0]
    picked = browser.pick_identity(login_page, national_id, "CARD")
    response = picked
    for _ in range(5):  # the wallet's login comes back to the console's return page
        if response.status_code != 302 or response.location.endswith("/admin/"):
            break
        response = browser.http.get(response.location)
    return response


def test_the_card_of_an_administrator_logs_in(app):
    with app.app_context():
        from psc_idp.admin.models import AdminAccount

        for stale in db.session.scalars(
            select(AdminAccount).where(AdminAccount.national_id == DOCTOR)
        ):
            db.session.delete(stale)
        db.session.commit()
    target = create_admin(app, national_id=DOCTOR)
    browser = Browser(app)
    response = _card_login(app, browser, DOCTOR)
    assert response.status_code == 302 and response.location.endswith("/admin/")
    assert browser.http.get("/admin/clients").status_code == 200
    assert admin_events(app, "admin_login", actor=target.login, method="card")


def test_the_card_of_someone_else_is_refused(app):
    browser = Browser(app)
    response = _card_login(app, browser, NURSE)
    assert response.status_code == 403
    assert "aucun administrateur" in response.get_data(as_text=True)
    assert browser.http.get("/admin/clients").status_code == 302


def test_an_idle_session_ends(app, console, admin):
    assert console.get("/admin/clients").status_code == 200
    with app.app_context():
        session = db.session.scalars(
            select(AdminSession).where(AdminSession.login == admin.login)
        ).one()
        session.last_seen_at = now() - timedelta(minutes=16)
        db.session.commit()
    assert console.get("/admin/clients").status_code == 302


def test_logout_ends_the_session(app, console, admin):
    response = console.post("/admin/logout")
    assert response.status_code == 302 and response.location.endswith("/admin/login")
    assert console.get("/admin/clients").status_code == 302
    with app.app_context():
        session = db.session.scalars(
            select(AdminSession).where(AdminSession.login == admin.login)
        ).one()
        assert session.ended_at is not None
        db.session.remove()
    assert admin_events(app, "admin_logout", actor=admin.login)
