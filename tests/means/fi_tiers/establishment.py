"""An establishment's identity provider for the tests: node-oidc-provider (npm, installed in a
temporary folder as the benchmark does) started by ``establishment.mjs``, and its login form
driven with ``requests`` as the professional's browser would."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from bench.servers import _wait_for, install_peer, running_node
from tests.live_server import free_port

SCRIPT = Path(__file__).with_name("establishment.mjs")
CLIENT_ID = "psc-idp"
#: psc-idp's return from the establishment's logout, registered there.
POST_LOGOUT = (
    "http://localhost:8080/auth/realms/esante-wallet/protocol/openid-connect/logout/upstream"
)


@dataclass
class Establishment:
    issuer: str
    client_secret: str

    def log_in(
        self,
        authorize_url: str,
        account: str,
        amr: str,
        tid: str = "chu",
        browser: requests.Session | None = None,
    ) -> str:
        """Follow psc-idp's redirect to the provider, log in there; returns where the provider
        sends the browser back (psc-idp's callback, with ``code`` and ``state``). A fresh
        browser unless one is given (whose session at the establishment is kept)."""
        browser = browser or requests.Session()
        location = authorize_url
        while True:
            response = browser.get(location, allow_redirects=False, timeout=10)
            assert response.status_code in (302, 303), response.text[:2000]
            location = urljoin(location, response.headers["Location"])
            if not location.startswith(self.issuer):
                return location
            path = urlsplit(location).path
            if path.startswith("/interaction/") and not path.endswith("/login"):
                location = f"{location}/login?account={account}&amr={amr}&tid={tid}"


@contextlib.contextmanager
def establishment(
    install_dir: Path,
    redirect_uri: str,
    client_jwks: dict | None = None,
    rp_logout: bool = True,
    post_logout_uri: str = POST_LOGOUT,
) -> Iterator[Establishment]:
    """The establishment's provider; with ``client_jwks`` psc-idp's client there authenticates
    with private_key_jwt (those keys), else with its secret; ``rp_logout=False``: no
    RP-initiated logout (no ``end_session_endpoint``); ``post_logout_uri``: psc-idp's return
    from that logout, as registered there."""
    if not (install_dir / "node_modules" / "oidc-provider").exists():
        install_peer(install_dir)
    port, secret = free_port(), secrets.token_urlsafe(24)
    log_path = install_dir / f"establishment-{port}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSC_", "FI_"))},
        "NODE_ENV": "production",
        "FI_PORT": str(port),
        "FI_CLIENT_ID": CLIENT_ID,
        "FI_CLIENT_SECRET": secret,
        "FI_REDIRECT_URI": redirect_uri,
        "FI_POST_LOGOUT_URI": post_logout_uri,
        "FI_RP_LOGOUT": "1" if rp_logout else "0",
        **({"FI_CLIENT_JWKS": json.dumps(client_jwks)} if client_jwks else {}),
        "OIDC_PROVIDER_DIR": str(install_dir),
    }
    with running_node(SCRIPT, env, log_path) as process:
        issuer = f"http://localhost:{port}"
        _wait_for(f"{issuer}/.well-known/openid-configuration", process, log_path)
        yield Establishment(issuer, secret)
