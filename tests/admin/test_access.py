"""Every console route but the login's redirects to the login page without a session, whatever
the caller asks for (never JSON); every POST of a session needs its CSRF token; pages carry the
security headers."""

from __future__ import annotations

import re

import pytest

from psc_idp.admin.blueprint import PUBLIC


def _admin_routes(app) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in PUBLIC:
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, path))
    return routes


def test_the_console_has_its_routes(app):
    endpoints = {endpoint for endpoint, _, _ in _admin_routes(app)}
    assert {"admin.clients", "admin.rotate_keys", "admin.audit_trail", "admin.deactivate"} <= (
        endpoints
    )


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_no_route_is_reachable_without_a_session(app, accept):
    http = app.test_client()
    routes = _admin_routes(app)
    assert len(routes) > 15
    for endpoint, method, path in routes:
        response = http.open(path, method=method, headers={"Accept": accept})
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.location.endswith("/admin/login"), endpoint
        assert not response.is_json


def test_a_post_without_its_csrf_token_is_refused(app, console):
    response = console.http.post("/admin/keys/rotate", data={"confirm": "oui"})
    assert response.status_code == 400
    assert "expiré" in response.get_data(as_text=True)
    forged = console.http.post(
        "/admin/clients/new", data={"csrf_token": "x" * 64, "client_id": "forged"}
    )
    assert forged.status_code == 400


def test_pages_carry_the_security_headers(app, console):
    for path in ("/admin/login", "/admin/", "/admin/clients", "/admin/keys", "/admin/audit"):
        response = console.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script" not in response.get_data(as_text=True)


def test_an_unknown_page_is_a_french_page(console):
    response = console.get("/admin/clients/nobody-here")
    assert response.status_code == 404
    assert "Aucun client" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
