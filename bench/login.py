"""Obtaining real tokens from a running server, as a relying party would."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

REDIRECT = "http://localhost:3000/callback"


def obtain_code(base_url: str, client_id: str) -> tuple[str, str]:
    """Log in as the demo doctor through the test identity picker; return (code, verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    http = requests.Session()
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
    )
    picker = f"{base_url}{start.headers['Location']}/dev"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get(picker).text).group(1)
    done = http.post(
        picker,
        data={"csrf_token": csrf, "national_id": "899700218896", "auth_mode": "CARD"},
        allow_redirects=False,
    )
    back = http.get(f"{base_url}{done.headers['Location']}", allow_redirects=False)
    return parse_qs(urlsplit(back.headers["Location"]).query)["code"][0], verifier


def login(base_url: str, issuer: str, client_id: str, secret: str) -> dict:
    """A full login; returns the token response."""
    code, verifier = obtain_code(base_url, client_id)
    response = requests.post(
        f"{issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return response.json()
