"""The test hierarchy, generated under ``{keys_dir}/pki/`` on first start and loaded once per
process:

- ``racine``: TEST AC RACINE IGC-SANTE ELEMENTAIRE (self-signed, pathLen 1);
- ``personnes``: TEST AC IGC-SANTE ELEMENTAIRE PERSONNES, issues CPS card certificates;
- ``organisations``: TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS, issues ORG AUTH_CLI and the
  TLS server certificate of psc-idp's own HTTPS listener (as IGC-Santé issues SSL_SERV ones).

Several instances may start at once on the same folder: generation happens under an exclusive
``flock`` and ``hierarchy.json`` is written last, so a reader either sees a complete hierarchy
or waits for the one being made. Each file is written to a temporary name and renamed."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from psc_idp.keystore.permissions import own_private_key
from psc_idp.pki import certs
from psc_idp.pki.files import exclusive, private_pem, write_file
from psc_idp.pki.names import authority_name, colon_fingerprint
from psc_idp.pki.settings import pki_setting

if TYPE_CHECKING:
    from psc_idp.config import Settings

MARKER = "hierarchy.json"
ROOT_DAYS = 20 * 365 + 5
CA_DAYS = 10 * 365 + 2
#: The CAs start a year before they are made, as if they had been running for a while: test
#: cards dated in the past (expired ones) then chain to a CA valid when they were issued.
CA_BACKDATE = timedelta(days=365)
SERVER_RENEW_BEFORE = timedelta(days=30)
ISSUING_SLUGS = ("personnes", "organisations")


@dataclass(frozen=True)
class Authority:
    slug: str
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    cert_path: Path

    @property
    def signer(self) -> certs.Signer:
        return certs.Signer(self.certificate.subject, self.key, self.certificate)

    def issued(self, cert: x509.Certificate) -> bool:
        """Whether this CA signed ``cert`` (name match and a valid signature)."""
        if cert.issuer != self.certificate.subject:
            return False
        try:
            cert.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True


@dataclass(frozen=True)
class Hierarchy:
    folder: Path
    root: Authority
    personnes: Authority
    organisations: Authority
    server_certificate: x509.Certificate

    @property
    def authorities(self) -> tuple[Authority, ...]:
        return (self.root, self.personnes, self.organisations)

    def authority(self, slug: str) -> Authority | None:
        return next((a for a in self.authorities if a.slug == slug), None)

    def issuer_of(self, cert: x509.Certificate) -> Authority | None:
        return next((a for a in self.authorities if a.issued(cert)), None)

    @property
    def server_cert_path(self) -> Path:
        return self.folder / "server.crt.pem"

    @property
    def server_key_path(self) -> Path:
        return self.folder / "server.key.pem"

    @property
    def server_fullchain_path(self) -> Path:
        """Server certificate followed by its issuing CA: what nginx and TLS servers want."""
        return self.folder / "server.fullchain.pem"

    @property
    def bundle_path(self) -> Path:
        """Every CA certificate of the hierarchy (e.g. nginx ``ssl_client_certificate``)."""
        return self.folder / "ca-bundle.pem"


# --- loading -----------------------------------------------------------------------------------

_loaded: dict[Path, Hierarchy] = {}
_loaded_lock = threading.Lock()


def get_hierarchy(settings: Settings | None = None) -> Hierarchy:
    """The hierarchy of the running app's keys folder, generated if needed, cached per process."""
    if settings is None:
        from psc_idp.config import current_settings

        settings = current_settings()
    folder = (Path(settings.keys_dir) / "pki").resolve()
    with _loaded_lock:
        if folder not in _loaded:
            _loaded[folder] = load_hierarchy(
                folder,
                base_url=settings.base_url,
                hostnames=pki_setting("pki_server_hostnames", settings),
                server_days=pki_setting("pki_server_validity_days", settings),
            )
        return _loaded[folder]


def load_hierarchy(
    folder: Path, *, base_url: str, hostnames: Sequence[str] = (), server_days: int = 397
) -> Hierarchy:
    """Read the hierarchy in ``folder``, creating it (or renewing the server certificate)."""
    folder = Path(folder)
    if not (folder / MARKER).exists() or _server_due(folder):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive(folder / ".lock"):
            # Checked again under the lock: another process may have just finished.
            if not (folder / MARKER).exists():
                _generate(folder, base_url, list(hostnames), server_days)
            elif _server_due(folder):
                _issue_server(
                    folder,
                    _read_authority(folder, "organisations"),
                    base_url,
                    list(hostnames),
                    server_days,
                )
    return Hierarchy(
        folder=folder,
        root=_read_authority(folder, "racine"),
        personnes=_read_authority(folder, "personnes"),
        organisations=_read_authority(folder, "organisations"),
        server_certificate=x509.load_pem_x509_certificate((folder / "server.crt.pem").read_bytes()),
    )


def _read_authority(folder: Path, slug: str) -> Authority:
    cert_path = folder / f"{slug}.crt.pem"
    key = own_private_key((folder / f"{slug}.key.pem").read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey)
    return Authority(slug, x509.load_pem_x509_certificate(cert_path.read_bytes()), key, cert_path)


def _server_due(folder: Path) -> bool:
    path = folder / "server.crt.pem"
    if not (folder / MARKER).exists():
        return False  # the whole hierarchy is due, not only the server certificate
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - datetime.now(UTC) < SERVER_RENEW_BEFORE


# --- generation --------------------------------------------------------------------------------


def _generate(folder: Path, base_url: str, hostnames: list[str], server_days: int) -> None:
    root_key = certs.new_key(certs.CA_KEY_SIZE)
    root_signer = certs.Signer(authority_name("racine"), root_key)
    root_cert = certs.build(
        subject=root_signer.name,
        public_key=root_key.public_key(),
        signer=root_signer,
        window=certs.validity(days=ROOT_DAYS, not_before=datetime.now(UTC) - CA_BACKDATE),
        extensions=certs.ca_extensions(path_length=1),
        crl=None,  # a trust anchor is not checked against a CRL
    )
    root = _save_authority(folder, "racine", root_cert, root_key)
    issuing = []
    for slug in ISSUING_SLUGS:
        key = certs.new_key(certs.CA_KEY_SIZE)
        cert = certs.build(
            subject=authority_name(slug),
            public_key=key.public_key(),
            signer=root.signer,
            window=certs.validity(
                days=CA_DAYS, not_before=datetime.now(UTC) - CA_BACKDATE, issuer=root_cert
            ),
            extensions=certs.ca_extensions(path_length=0),
            crl=certs.crl_url(base_url, "racine"),
        )
        issuing.append(_save_authority(folder, slug, cert, key))
    bundle = b"".join(
        a.certificate.public_bytes(serialization.Encoding.PEM) for a in (root, *issuing)
    )
    write_file(folder / "ca-bundle.pem", bundle)
    _issue_server(folder, issuing[1], base_url, hostnames, server_days)
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_url": base_url,
        "sha256": {a.slug: colon_fingerprint(a.certificate) for a in (root, *issuing)},
    }
    write_file(folder / MARKER, json.dumps(info, indent=2).encode())


def _save_authority(
    folder: Path, slug: str, cert: x509.Certificate, key: rsa.RSAPrivateKey
) -> Authority:
    write_file(folder / f"{slug}.key.pem", private_pem(key), private=True)
    cert_path = folder / f"{slug}.crt.pem"
    write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return Authority(slug, cert, key, cert_path)


def server_names(base_url: str, hostnames: list[str]) -> list[x509.GeneralName]:
    """localhost, 127.0.0.1, ::1, the host of ``base_url`` and the configured extra names."""
    wanted = ["localhost", "127.0.0.1", "::1", urlsplit(base_url).hostname or "", *hostnames]
    names: list[x509.GeneralName] = []
    for item in dict.fromkeys(w.strip().lower() for w in wanted if w and w.strip()):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(item)))
        except ValueError:
            names.append(x509.DNSName(item))
    return names


def _issue_server(
    folder: Path, issuer: Authority, base_url: str, hostnames: list[str], days: int
) -> None:
    key = certs.new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PSC-IDP"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    usage = certs.key_usage(digital_signature=True, key_encipherment=True)
    extensions = certs.leaf_extensions(certs.SERVER_EKU, usage)
    extensions.append((x509.SubjectAlternativeName(server_names(base_url, hostnames)), False))
    cert = certs.build(
        subject=subject,
        public_key=key.public_key(),
        signer=issuer.signer,
        window=certs.validity(days=days, issuer=issuer.certificate),
        extensions=extensions,
        crl=certs.crl_url(base_url, issuer.slug),
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    # Key first, then the certificate: a reader never pairs a new certificate with an old key
    # for longer than the two renames.
    write_file(folder / "server.key.pem", private_pem(key), private=True)
    write_file(folder / "server.crt.pem", pem)
    write_file(
        folder / "server.fullchain.pem",
        pem + issuer.certificate.public_bytes(serialization.Encoding.PEM),
    )
