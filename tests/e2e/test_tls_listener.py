"""psc-idp's own HTTPS listener (``psc-idp serve``, port 8443 in ``make run``) in real TLS:
a professional logs in with a card certificate, and a DPI authenticates with its ORG AUTH_CLI
certificate and gets a certificate-bound token. Clients are ``requests`` with ``cert=``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests

from tests.live_server import LiveServer, free_port
from tests.relying_party import (
    CALLBACK,
    callback_query,
    exchange_code,
    id_token_claims,
    run_cli,
    start_authorization,
)

pytestmark = pytest.mark.e2e

DOCTOR = "899700218896"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # One instance of its own in every run, cluster mode (PSC_TEST_INSTANCES=2) included: the
    # TLS under test ends at psc-idp's own listener, which nginx in front would replace. Cards
    # through nginx are tests/deployment/test_nginx.py's.
    with LiveServer(env={"PSC_TLS_PORT": str(free_port())}) as live:
        yield live


def tls_origin(server: LiveServer) -> str:
    return f"https://localhost:{server.environment()['PSC_TLS_PORT']}"


def root_ca(server: LiveServer) -> str:
    return str(server.keys_dir / "pki" / "ca-bundle.pem")


def issued_files(server: LiveServer, tmp_path: Path, *args: str) -> tuple[str, str]:
    files = run_cli(server, *args, "--out", str(tmp_path))["files"]
    cert = next(v for k, v in files.items() if "crt" in k or k == "certificate")
    key = next(v for k, v in files.items() if "key" in k)
    return cert, key


def test_card_login_over_real_tls(server, tmp_path):
    card = issued_files(server, tmp_path, "cps", "issue", DOCTOR)
    http, start, verifier = start_authorization(server, acr_values="eidas3")
    mire = http.get(server.url(start.headers["Location"]))
    card_page = re.search(r'href="([^"]+/card)"', mire.text).group(1)
    go = http.get(server.url(card_page))
    secure_url = re.search(r'href="(https://[^"]+/card)"', go.text).group(1)
    assert secure_url.startswith(tls_origin(server))
    confirm = http.get(secure_url, cert=card, verify=root_ca(server))
    assert confirm.status_code == 200 and DOCTOR in confirm.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)
    done = http.post(
        secure_url,
        data={"csrf_token": csrf},
        cert=card,
        verify=root_ca(server),
        allow_redirects=False,
    )
    # The SSO cookie set on the TLS listener never travels in clear afterwards.
    assert "Secure" in _set_cookie(done, "PSC_SESSION")
    back = http.get(
        tls_origin(server) + done.headers["Location"],
        cert=card,
        verify=root_ca(server),
        allow_redirects=False,
    )
    query = callback_query(back.headers["Location"])
    tokens = exchange_code(server, query["code"], verifier)
    claims = id_token_claims(tokens)
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        DOCTOR,
        "CARD",
        "eidas3",
    )


def _set_cookie(response: requests.Response, name: str) -> str:
    headers = response.raw.headers.getlist("Set-Cookie")
    return next(header for header in headers if header.startswith(f"{name}="))


def test_cookies_are_secure_on_the_tls_listener_only(server):
    query = {"response_type": "code", "client_id": "demo-web", "redirect_uri": CALLBACK}
    over_tls = requests.get(
        f"{tls_origin(server)}/wallet/auth",
        params=query,
        verify=root_ca(server),
        allow_redirects=False,
        timeout=10,
    )
    plain = requests.get(
        server.url("/wallet/auth"), params=query, allow_redirects=False, timeout=10
    )
    assert over_tls.status_code == plain.status_code == 302
    cookie = _set_cookie(over_tls, "PSC_LOGIN")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in _set_cookie(plain, "PSC_LOGIN")
    for response in (over_tls, plain):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    # An http base URL: no HSTS, or browsers would force https onto the plain port.
    assert "Strict-Transport-Security" not in over_tls.headers


def test_tls_listener_without_a_card_explains(server):
    page = requests.get(f"{tls_origin(server)}/wallet/", verify=root_ca(server), timeout=10)
    assert page.status_code == 200  # a certificate is asked for, not required


def test_dpi_with_org_certificate_gets_a_bound_token(server, tmp_path):
    org = run_cli(
        server,
        "pki",
        "issue-org",
        "--structure-id",
        "1B0064166",
        "--name",
        "HOPITAL TEST",
        "--out",
        str(tmp_path),
    )
    files = org["files"]
    cert = next(v for k, v in files.items() if "crt" in k or k == "certificate")
    key = next(v for k, v in files.items() if "key" in k)
    run_cli(
        server,
        "clients",
        "add",
        "dpi-tls",
        "--auth-method",
        "tls_client_auth",
        "--tls-subject-dn",
        org["subject"],
        "--bound-tokens",
        "--grant-type",
        "client_credentials",
    )
    token_url = f"{tls_origin(server)}/auth/realms/esante-wallet/protocol/openid-connect/token"
    response = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "client_id": "dpi-tls"},
        cert=(cert, key),
        verify=root_ca(server),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["cnf"]["x5t#S256"] == org["sha256_thumbprint"]
    without = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "client_id": "dpi-tls"},
        verify=root_ca(server),
        timeout=10,
    )
    assert without.status_code == 401
