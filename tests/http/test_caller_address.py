"""The caller's address behind nginx (psc_idp/http/address.py), the same everywhere: the limits
per address, the audit trail, the access line (Flask's and the published documents'), the
metrics allow-list. A proxy in ``PSC_TRUSTED_PROXIES`` names the browser in
``X-Forwarded-For``; the same header from any other peer is ignored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from psc_idp.audit import AuditEvent
from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.http.address import address_of, is_trusted_proxy
from psc_idp.http.prepared import published_routes, wrap
from psc_idp.observe.logs import configure_logging
from tests.helpers import Browser, TestClients

NGINX = "10.0.0.2"
BROWSER = "203.0.113.5"
ELSEWHERE = "198.51.100.9"


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    configure_logging(Settings(dev_mode=True))  # back to the suite's stream and format


def _via(peer: str, forwarded: str | None = None) -> dict[str, str]:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return environ


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (_via(NGINX, BROWSER), BROWSER),
        (_via(NGINX, f"192.0.2.1, {BROWSER}"), BROWSER),  # the hop nginx added, not the client's
        (_via(NGINX, "2001:db8::0:1"), "2001:db8::1"),
        (_via(NGINX), NGINX),  # nothing forwarded: nginx is the caller
        (_via(NGINX, "not-an-address"), NGINX),
        (_via(NGINX, "x" * 200), NGINX),
        (_via(ELSEWHERE, BROWSER), ELSEWHERE),  # forged: the peer is not a trusted proxy
        (_via("10.0.0.3", BROWSER), "10.0.0.3"),
        (_via("", BROWSER), ""),
    ],
)
def test_address_of(environ, expected):
    assert address_of(environ, ["10.0.0.2/32", "not a network"]) == expected


def test_nothing_is_forwarded_without_trusted_proxies():
    assert address_of(_via(NGINX, BROWSER), []) == NGINX
    assert is_trusted_proxy("10.9.8.7", ["10.0.0.0/8"])
    assert not is_trusted_proxy("11.0.0.1", ["10.0.0.0/8"])
    assert not is_trusted_proxy("::1", ["127.0.0.1"])


def test_metrics_allow_list_sees_the_browser_behind_a_trusted_proxy(make_app):
    app = make_app(dev_mode=False, metrics_allow=["192.0.2.0/24"], trusted_proxies=[NGINX])
    client = app.test_client()

    def status(environ: dict[str, str]) -> int:
        return client.get("/metrics", environ_base=environ).status_code

    assert status(_via(NGINX, "192.0.2.9")) == 200
    assert status(_via(NGINX, BROWSER)) == 403
    assert status(_via(NGINX)) == 403  # nginx itself is not listed
    assert status(_via(ELSEWHERE, "192.0.2.9")) == 403  # a forged header is ignored


def test_a_listed_proxy_is_not_a_free_pass_to_the_metrics(make_app):
    """nginx's own address in the allow list lets nginx scrape, not every browser behind it."""
    app = make_app(dev_mode=False, metrics_allow=[f"{NGINX}/32"], trusted_proxies=[NGINX])
    client = app.test_client()
    assert client.get("/metrics", environ_base=_via(NGINX)).status_code == 200
    assert client.get("/metrics", environ_base=_via(NGINX, BROWSER)).status_code == 403


def test_development_loopback_metrics_stay_loopback_behind_nginx(make_app):
    app = make_app(trusted_proxies=["127.0.0.1"])  # dev mode, nginx on this host
    client = app.test_client()
    assert client.get("/metrics", environ_base=_via("127.0.0.1")).status_code == 200
    far = client.get("/metrics", environ_base=_via("127.0.0.1", BROWSER))
    assert far.status_code == 403


def _login_events(app, client_id: str, environ: dict[str, str]) -> list[AuditEvent]:
    browser = Browser(app)
    browser.http.environ_base.update(environ)
    with app.app_context():
        first = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) or 0
    browser.login(client_id)
    with app.app_context():
        events = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > first).order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
    return events


def test_the_audit_trail_records_the_browser_behind_a_trusted_proxy(make_app):
    app = make_app(trusted_proxies=[NGINX])
    events = _login_events(app, TestClients.ensure(app).web.client_id, _via(NGINX, BROWSER))
    assert [e.event for e in events] == ["login_succeeded"]
    assert events[0].ip == BROWSER


def test_the_audit_trail_ignores_a_forged_header(make_app):
    app = make_app(trusted_proxies=[NGINX])
    events = _login_events(app, TestClients.ensure(app).web.client_id, _via(ELSEWHERE, BROWSER))
    assert [e.event for e in events] == ["login_succeeded"]
    assert events[0].ip == ELSEWHERE


def _access_lines(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "psc_idp.access"]


def test_the_access_line_names_the_browser(make_app, capsys):
    app = make_app(log_format="json", trusted_proxies=[NGINX])
    client = app.test_client()
    capsys.readouterr()
    proxied = client.get("/health/live", environ_base=_via(NGINX, BROWSER))
    forged = client.get("/health/live", environ_base=_via(ELSEWHERE, BROWSER))
    by_id = {line["request_id"]: line for line in _access_lines(capsys.readouterr().err)}
    assert by_id[proxied.headers["X-Request-ID"]]["remote_addr"] == BROWSER
    assert by_id[forged.headers["X-Request-ID"]]["remote_addr"] == ELSEWHERE


def test_the_published_documents_access_line_names_the_browser(make_app, capsys):
    """Discovery and JWKS are answered before Flask: their access line follows the same rule."""
    app = make_app(log_format="json", trusted_proxies=[NGINX])
    path = next(p for p in published_routes(app) if p.endswith("/certs"))
    client = Client(wrap(app))
    capsys.readouterr()
    proxied = client.get(path, environ_base=_via(NGINX, BROWSER))
    forged = client.get(path, environ_base=_via(ELSEWHERE, BROWSER))
    assert proxied.status_code == forged.status_code == 200
    by_id = {line["request_id"]: line for line in _access_lines(capsys.readouterr().err)}
    assert by_id[proxied.headers["X-Request-ID"]]["remote_addr"] == BROWSER
    assert by_id[forged.headers["X-Request-ID"]]["remote_addr"] == ELSEWHERE
