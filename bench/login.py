"""Obtaining real tokens from a running psc-idp, as a relying party would: authorization-code
login with PKCE through the test identity picker (development mode)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

REDIRECT = "http://localhost:3000/callback"
DEMO_DOCTOR = "899700218896"


def start_login(base_url: str, client_id: str, http: requests.Session) -> tuple[str, str]:
    """An authorization request with PKCE; returns (la mire's path, the code verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    start = http.get(
        f"{base_url}/wallet/auth",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid scope_all",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert start.status_code == 302, start.text
    return start.headers["Location"], verifier


def obtain_code(
    base_url: str,
    client_id: str,
    national_id: str = DEMO_DOCTOR,
    http: requests.Session | None = None,
) -> tuple[str, str]:
    """Log ``national_id`` in through the test identity picker (card); return (code, verifier)."""
    http = http or requests.Session()
    login_page, verifier = start_login(base_url, client_id, http)
    picker = f"{base_url}{login_page}/dev"
    page = http.get(picker, timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = http.post(
        picker,
        data={"csrf_token": csrf, "national_id": national_id, "auth_mode": "CARD"},
        allow_redirects=False,
        timeout=30,
    )
    back = http.get(f"{base_url}{done.headers['Location']}", allow_redirects=False, timeout=30)
    return parse_qs(urlsplit(back.headers["Location"]).query)["code"][0], verifier


def login(
    base_url: str,
    issuer: str,
    client_id: str,
    secret: str,
    national_id: str = DEMO_DOCTOR,
    http: requests.Session | None = None,
) -> dict:
    """A full login; returns the token response."""
    http = http or requests.Session()
    code, verifier = obtain_code(base_url, client_id, national_id, http)
    response = exchange_code(http, issuer, (client_id, secret), code, verifier)
    response.raise_for_status()
    return response.json()


def exchange_code(
    http: requests.Session, issuer: str, client: tuple[str, str], code: str, verifier: str
) -> requests.Response:
    """The token request of a code with its PKCE verifier (``client``: id and secret)."""
    return http.post(
        f"{issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=client,
        timeout=30,
    )
