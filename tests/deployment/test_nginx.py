"""psc-idp behind Debian's nginx, configured with docs/nginx/psc-idp.conf.template exactly as
docs/deploy.md tells an operator to: nginx terminates TLS, asks for a client certificate and
forwards it in ``X-SSL-Client-Cert``; psc-idp believes that header from 127.0.0.1 only.

nginx runs as tests/nginx.py starts it (its own prefix, a free port, always stopped).
Certificates are issued with the ``psc-idp`` command against the server's own environment, as
an operator would."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.live_server import REALM_PATH, LiveServer, free_port
from tests.nginx import (
    NGINX,
    TEMPLATE,
    Nginx,
    ProxiedServer,
    guide_block,
    render,
    site_values,
)

pytestmark = pytest.mark.e2e

CALLBACK = "http://localhost:3000/callback"
DOCTOR = "899700218896"  # Dr Robert SPECIALISTE0021889
PHARMACIST = "899700100151"  # Mme Claire LEFEBVRE
MTLS_CLIENT = "dpi-derriere-nginx"

NO_CERTIFICATE = "Aucun certificat de carte CPS n'a été présenté"
UNTRUSTED = "n'est pas émis par une autorité de confiance"


def psc_idp(server: LiveServer, *args: str) -> dict | list:
    """The psc-idp command on the server's database and keys."""
    command = [str(Path(sys.executable).with_name("psc-idp")), *args, "--json"]
    result = subprocess.run(
        command, env=server.environment(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


@dataclass
class ClientCert:
    """A client certificate and its key, as files: a card, or software's ORG certificate."""

    certificate: Path
    private_key: Path

    @property
    def cert(self) -> tuple[str, str]:
        """``requests``' ``cert=``."""
        return (str(self.certificate), str(self.private_key))

    @property
    def pem(self) -> str:
        return self.certificate.read_text()


def _client_cert(files: dict[str, str]) -> ClientCert:
    return ClientCert(Path(files["certificate"]), Path(files["private_key"]))


@dataclass
class Deployment:
    server: ProxiedServer
    nginx: Nginx
    public_url: str
    ca_bundle: str  # verify= for requests: every CA of the test PKI
    folder: Path  # certificates issued for the tests

    @property
    def issuer(self) -> str:
        return f"{self.public_url}{REALM_PATH}"

    def url(self, path: str) -> str:
        return urljoin(self.public_url + "/", path.lstrip("/"))

    def issue_card(self, national_id: str) -> tuple[ClientCert, str]:
        issued = psc_idp(self.server, "cps", "issue", national_id, "--out", str(self.folder))
        return _client_cert(issued["files"]), issued["serial"]


def _server_options(database_url: str, keys_dir: Path) -> tuple[dict[str, str], dict]:
    """On PostgreSQL, the session's database and keys (as tests/e2e does); else all fresh."""
    if database_url.startswith("postgresql"):
        return {"PSC_DATABASE_URL": database_url}, {"keys_dir": keys_dir}
    return {}, {}


@pytest.fixture(scope="module")
def deployment(database_url: str, keys_dir: Path) -> Iterator[Deployment]:
    if not os.access(NGINX, os.X_OK):
        pytest.skip(f"Debian's nginx is not installed ({NGINX}): apt-get install nginx")
    port = free_port()
    public_url = f"https://localhost:{port}"
    db_env, options = _server_options(database_url, keys_dir)
    server = ProxiedServer(
        public_url,
        env={
            **db_env,
            "PSC_BASE_URL": public_url,
            "PSC_TRUSTED_PROXIES": "127.0.0.1",
            "PSC_TLS_PORT": "0",
        },
        **options,
    )
    nginx: Nginx | None = None
    folder = Path(tempfile.mkdtemp(prefix="psc-nginx-certs-"))
    try:
        server.start()
        pki = server.keys_dir / "pki"
        site = render(TEMPLATE.read_text(), site_values(server, port))
        nginx = Nginx(site, port).start()
        yield Deployment(server, nginx, public_url, str(pki / "ca-bundle.pem"), folder)
    finally:
        if nginx is not None:
            nginx.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Issued:
    doctor: ClientCert  # valid
    revoked: ClientCert  # revoked with psc-idp cps revoke
    software: ClientCert  # ORG AUTH_CLI of the client MTLS_CLIENT (tls_client_auth)


@pytest.fixture(scope="module")
def issued(deployment: Deployment) -> Issued:
    """Certificates and the mTLS client, made with the command line. Each command starts the
    whole application (seconds): the three chains of commands run side by side."""

    def revoked() -> ClientCert:
        card, serial = deployment.issue_card(PHARMACIST)
        psc_idp(deployment.server, "cps", "revoke", serial, "--reason", "keyCompromise")
        return card

    def software() -> ClientCert:
        org = psc_idp(
            deployment.server,
            "pki",
            "issue-org",
            "--structure-id",
            "1B0064166",
            "--name",
            "HOPITAL GENERIQUE",
            "--service",
            "DPI NGINX",
            "--out",
            str(deployment.folder),
        )
        psc_idp(
            deployment.server,
            "clients",
            "add",
            MTLS_CLIENT,
            "--name",
            "DPI derrière nginx",
            "--auth-method",
            "tls_client_auth",
            "--tls-subject-dn",
            org["subject"],
            "--bound-tokens",
            "--grant-type",
            "client_credentials",
        )
        return _client_cert(org["files"])

    with ThreadPoolExecutor(max_workers=3) as pool:
        doctor = pool.submit(lambda: deployment.issue_card(DOCTOR)[0])
        jobs = pool.submit(revoked), pool.submit(software)
        return Issued(doctor.result(), jobs[0].result(), jobs[1].result())


# --- a login driven with requests --------------------------------------------------------------
def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start_login(deployment: Deployment, http: requests.Session) -> tuple[str, str]:
    """Authorize through nginx; returns the card page of the new login and the PKCE verifier."""
    verifier, challenge = _pkce()
    start = http.get(
        deployment.url("/wallet/auth"),
        params={
            "response_type": "code",
            "client_id": "demo-web",
            "redirect_uri": CALLBACK,
            "scope": "openid scope_all",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    assert start.status_code == 302, start.text
    la_mire = deployment.url(start.headers["Location"])
    page = http.get(la_mire)
    assert page.status_code == 200 and "/card" in page.text  # « Carte CPS » is offered
    return f"{la_mire}/card", verifier


def browser(deployment: Deployment, card: ClientCert | None = None) -> requests.Session:
    session = requests.Session()
    # Otherwise REQUESTS_CA_BUNDLE, if set, silently wins over session.verify.
    session.trust_env = False
    session.verify = deployment.ca_bundle
    if card is not None:
        session.cert = card.cert
    return session


def text_of(response: requests.Response) -> str:
    return html.unescape(response.text)


def refusal(deployment: Deployment, card: ClientCert | None, **headers: str) -> requests.Response:
    """Open the card page with ``card`` (or none); it must be refused."""
    http = browser(deployment, card)
    card_page, _ = start_login(deployment, http)
    page = http.get(card_page, headers=headers)
    assert page.status_code == 400, page.text
    assert "Carte refusée" in text_of(page)
    return page


def decode(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- 0. the guide shows the configurations the tests run --------------------------------------
def test_the_guide_shows_the_template_verbatim():
    assert guide_block("docs/nginx/psc-idp.conf.template") == TEMPLATE.read_text()


# --- 1. a card login end to end through nginx --------------------------------------------------
def test_discovery_names_the_public_origin(deployment):
    document = requests.get(
        f"{deployment.issuer}/.well-known/openid-configuration",
        verify=deployment.ca_bundle,
        timeout=10,
    ).json()
    assert document["issuer"] == deployment.issuer
    aliases = document["mtls_endpoint_aliases"]
    assert aliases["token_endpoint"] == f"{deployment.issuer}/protocol/openid-connect/token"


def test_card_login_through_nginx(deployment, issued):
    http = browser(deployment, issued.doctor)
    card_page, verifier = start_login(deployment, http)
    shown = http.get(card_page)
    page = text_of(shown)
    assert shown.status_code == 200, page
    assert DOCTOR in page and "SPECIALISTE0021889" in page
    assert "Se connecter avec cette carte" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)
    done = http.post(card_page, data={"csrf_token": csrf}, allow_redirects=False)
    assert done.status_code in (302, 303), done.text
    back = http.get(deployment.url(done.headers["Location"]), allow_redirects=False)
    callback = urlsplit(back.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == CALLBACK
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    assert query["iss"] == deployment.issuer
    tokens = requests.post(
        f"{deployment.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=("demo-web", deployment.server.demo_secret("demo-web")),
        verify=deployment.ca_bundle,
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    claims = decode(tokens.json()["id_token"])
    assert claims["iss"] == deployment.issuer
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        DOCTOR,
        "CARD",
        "eidas3",
    )


def test_card_login_on_a_dedicated_card_origin(deployment, issued):
    """docs/deploy.md § 4: the main origin never asks for a certificate and sends the card
    page to the card origin (same host name, another port), where the login completes."""
    main_port, card_port = free_port(), free_port()
    card_origin = f"https://localhost:{card_port}"
    site = render(
        guide_block("card origin"),
        {
            **site_values(deployment.server, main_port),
            "CARD_LISTEN_PORT": f"127.0.0.1:{card_port}",
            "CARD_ORIGIN": card_origin,
        },
    )
    nginx = Nginx(site, main_port).start()
    try:
        main = Deployment(
            deployment.server,
            nginx,
            f"https://localhost:{main_port}",
            deployment.ca_bundle,
            deployment.folder,
        )
        http = browser(main, issued.doctor)
        card_page, _ = start_login(main, http)
        sent = http.get(card_page, allow_redirects=False)
        assert sent.status_code == 307
        assert sent.headers["Location"] == card_origin + urlsplit(card_page).path
        shown = http.get(sent.headers["Location"])
        assert shown.status_code == 200 and DOCTOR in shown.text, shown.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)
        done = http.post(shown.url, data={"csrf_token": csrf}, allow_redirects=False)
        assert done.status_code in (302, 303), done.text
        back = http.get(urljoin(card_origin, done.headers["Location"]), allow_redirects=False)
        assert back.headers["Location"].startswith(CALLBACK + "?code=")
        # The main origin forwards no certificate, whatever the client sends.
        forged = requests.post(
            f"{main.issuer}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials", "client_id": MTLS_CLIENT},
            headers={"X-SSL-Client-Cert": quote(issued.software.pem)},
            cert=issued.software.cert,
            verify=deployment.ca_bundle,
            timeout=10,
        )
        assert forged.status_code == 401
    finally:
        nginx.stop()


# --- 2. refusals, each explained by psc-idp ----------------------------------------------------
def write_card(
    folder: Path,
    stem: str,
    subject: x509.Name,
    extensions: x509.Extensions,
    issuer: x509.Certificate,
    issuer_key: rsa.RSAPrivateKey,
    not_before: datetime,
    not_after: datetime,
) -> ClientCert:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in extensions:
        if not isinstance(extension.value, x509.AuthorityKeyIdentifier | x509.SubjectKeyIdentifier):
            builder = builder.add_extension(extension.value, extension.critical)
    leaf = builder.sign(issuer_key, hashes.SHA256())
    card = ClientCert(folder / f"{stem}.crt.pem", folder / f"{stem}.key.pem")
    card.certificate.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    card.private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return card


def _certificate(card: ClientCert) -> x509.Certificate:
    return x509.load_pem_x509_certificate(card.certificate.read_bytes())


def expired_card(deployment: Deployment, valid: ClientCert) -> ClientCert:
    """``valid`` issued again by the test PKI's PERSONNES authority, with dates in the past
    (``psc-idp cps issue`` has no option for that: ``--days`` counts from now)."""
    pki = deployment.server.keys_dir / "pki"
    authority = x509.load_pem_x509_certificate((pki / "personnes.crt.pem").read_bytes())
    key = serialization.load_pem_private_key((pki / "personnes.key.pem").read_bytes(), None)
    card = _certificate(valid)
    now = datetime.now(UTC)
    return write_card(
        deployment.folder,
        "expired",
        card.subject,
        card.extensions,
        authority,
        key,
        now - timedelta(days=30),
        now - timedelta(days=1),
    )


def foreign_card(deployment: Deployment, valid: ClientCert) -> ClientCert:
    """``valid``'s twin from an authority nobody configured."""
    now = datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC ETRANGERE DE TEST")])
    authority = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    card = _certificate(valid)
    return write_card(
        deployment.folder,
        "foreign",
        card.subject,
        card.extensions,
        authority,
        key,
        now - timedelta(hours=1),
        now + timedelta(days=10),
    )


def test_revoked_card_is_refused(deployment, issued):
    page = text_of(refusal(deployment, issued.revoked))
    assert "Le certificat a été révoqué." in page and PHARMACIST not in page


def test_expired_card_is_refused(deployment, issued):
    # nginx answers an expired certificate with a bare 495 of its own; the template's
    # error_page hands the request to psc-idp, which says why.
    page = text_of(refusal(deployment, expired_card(deployment, issued.doctor)))
    assert re.search(r"Le certificat a expiré le \d\d/\d\d/\d{4}", page), page


def test_card_from_a_foreign_authority_is_refused(deployment, issued):
    page = text_of(refusal(deployment, foreign_card(deployment, issued.doctor)))
    assert UNTRUSTED in page and DOCTOR not in page


def test_no_certificate_at_all(deployment):
    assert NO_CERTIFICATE in text_of(refusal(deployment, None))


# --- 3. who may say which certificate was presented --------------------------------------------
def _der_b64(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def test_certificate_headers_sent_to_nginx_are_dropped(deployment, issued):
    doctor = issued.doctor.pem
    nginx_style = {"X-SSL-Client-Cert": quote(doctor)}
    rfc9440 = {"Client-Cert": f":{_der_b64(doctor)}:"}
    # Without a certificate, neither form gets through…
    for forged in (nginx_style, rfc9440):
        assert NO_CERTIFICATE in text_of(refusal(deployment, None, **forged))
    # …and with one, the certificate of the connection is the one psc-idp judges.
    page = text_of(refusal(deployment, issued.revoked, **nginx_style, **rfc9440))
    assert "Le certificat a été révoqué." in page


def test_the_backend_believes_the_header_only_from_a_trusted_proxy(
    deployment, issued, database_url, keys_dir
):
    # A login opened through nginx, whose card page is then asked for straight from the
    # backend, from 127.0.0.1, with the browser's cookie (Secure: sent by hand over HTTP).
    http = browser(deployment)
    card_page, _ = start_login(deployment, http)
    path = urlsplit(card_page).path
    direct = {
        "X-SSL-Client-Cert": quote(issued.doctor.pem),
        "X-Forwarded-Proto": "https",
        "Cookie": f"PSC_LOGIN={http.cookies['PSC_LOGIN']}",
    }
    trusted = requests.get(deployment.server.backend + path, headers=direct, timeout=10)
    assert trusted.status_code == 200 and DOCTOR in trusted.text, trusted.text
    # Another instance of the same deployment (database, keys) without PSC_TRUSTED_PROXIES.
    db_env, _ = _server_options(database_url, keys_dir)
    with ProxiedServer(
        deployment.public_url,
        env={**db_env, "PSC_BASE_URL": deployment.public_url, "PSC_TLS_PORT": "0"},
        keys_dir=deployment.server.keys_dir,
        data_dir=deployment.server.data_dir,
        workers=1,
    ) as untrusting:
        ignored = requests.get(untrusting.backend + path, headers=direct, timeout=10)
    assert ignored.status_code == 400 and NO_CERTIFICATE in html.unescape(ignored.text)


# --- 4. tls_client_auth through nginx ----------------------------------------------------------
def x5t_s256(certificate: Path) -> str:
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_tls_client_auth_through_nginx(deployment, issued):
    software = issued.software
    endpoints = f"{deployment.issuer}/protocol/openid-connect"
    tls = {"verify": deployment.ca_bundle, "timeout": 10}
    token_response = requests.post(
        f"{endpoints}/token",
        data={"grant_type": "client_credentials", "client_id": MTLS_CLIENT},
        cert=software.cert,
        **tls,
    )
    assert token_response.status_code == 200, token_response.text
    token = token_response.json()["access_token"]
    thumbprint = x5t_s256(software.certificate)
    assert decode(token)["cnf"] == {"x5t#S256": thumbprint}
    own = requests.post(
        f"{endpoints}/token/introspect",
        data={"token": token, "client_id": MTLS_CLIENT},
        cert=software.cert,
        **tls,
    ).json()
    assert own["active"] is True and own["cnf"]["x5t#S256"] == thumbprint
    # Without the certificate the client cannot even authenticate…
    anonymous = requests.post(
        f"{endpoints}/token/introspect",
        data={"token": token, "client_id": MTLS_CLIENT},
        **tls,
    )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    # …and another client, without it, is told the bound token is not active.
    elsewhere = requests.post(
        f"{endpoints}/token/introspect",
        data={"token": token},
        auth=("demo-web", deployment.server.demo_secret("demo-web")),
        **tls,
    ).json()
    assert elsewhere == {"active": False}
    # A card is not a software certificate.
    card = requests.post(
        f"{endpoints}/token",
        data={"grant_type": "client_credentials", "client_id": MTLS_CLIENT},
        cert=issued.doctor.cert,
        **tls,
    )
    assert card.status_code == 401 and card.json()["error"] == "invalid_client"


# --- security headers through nginx ----------------------------------------------------------
def test_hsts_and_secure_cookies_through_nginx(deployment):
    """docs/deploy.md: psc-idp sends HSTS itself on HTTPS answers (X-Forwarded-Proto from
    nginx); the plain hop behind nginx alone gets none."""
    http = browser(deployment)
    start_login(deployment, http)
    page = http.get(deployment.url("/wallet/"), allow_redirects=False)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    cookie = next(c for c in http.cookies if c.name == "PSC_LOGIN")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
    direct = requests.get(f"{deployment.server.backend}/wallet/", timeout=10)
    assert "Strict-Transport-Security" not in direct.headers
