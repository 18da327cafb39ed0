"""Two instances sharing one database and one keys folder behave as one server."""

from __future__ import annotations

import re

from tests.helpers import (
    DOCTOR,
    TOKEN,
    USERINFO,
    TestClients,
    basic,
    pkce_pair,
    query_of,
)

COOKIES = ("PSC_LOGIN", "PSC_SESSION")


def _carry_cookies(source, target) -> None:
    for name in COOKIES:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_login_hops_between_instances(make_app):
    first, second = make_app(), make_app()
    clients = TestClients.ensure(first)
    a, b = first.test_client(), second.test_client()
    verifier, challenge = pkce_pair()
    start = a.get(
        "/wallet/auth",
        query_string={
            "response_type": "code",
            "client_id": clients.web.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid scope_all",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    login_page = start.headers["Location"]
    _carry_cookies(a, b)
    html = b.get(f"{login_page}/dev").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = b.post(
        f"{login_page}/dev",
        data={"csrf_token": csrf, "national_id": DOCTOR, "auth_mode": "CARD"},
    )
    _carry_cookies(b, a)
    callback = query_of(a.get(done.headers["Location"]).headers["Location"])
    tokens = b.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": "http://localhost:3000/callback",
            "code_verifier": verifier,
        },
        headers=basic(clients.web.client_id, clients.web.secret),
    ).get_json()
    info = a.get(USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and info.get_json()["authMode"] == "CARD"
    # The SSO session opened through the second instance is seen by the first.
    again = a.get(
        "/wallet/auth",
        query_string={
            "response_type": "code",
            "client_id": clients.web.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid",
            "prompt": "none",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert "code" in query_of(again.headers["Location"])
