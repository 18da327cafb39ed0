"""A foreign certification authority (not ours, not trusted unless configured) and a small HTTP
server publishing its CRL, for the tests of untrusted chains and of fetched CRLs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from psc_idp.pki.names import UPN_OID

DOCTOR = "899700218896"


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 128
    return bytes([0x0C, len(data)]) + data


@dataclass
class ForeignCa:
    """A self-made root issuing card-shaped certificates, built independently of psc_idp.pki."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    name: x509.Name = field(
        default_factory=lambda: x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AUTRE AC"),
                x509.NameAttribute(NameOID.COMMON_NAME, "AC ETRANGERE DE TEST"),
            ]
        )
    )

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def card(self, national_id: str = DOCTOR, crl_url: str | None = None) -> x509.Certificate:
        return self.card_and_key(national_id, crl_url)[0]

    def card_and_key(
        self, national_id: str = DOCTOR, crl_url: str | None = None
    ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, national_id)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.OtherName(UPN_OID, _der_utf8(f"{national_id}@carte-cps.fr"))]
                ),
                critical=False,
            )
        )
        if crl_url:
            point = x509.DistributionPoint(
                [x509.UniformResourceIdentifier(crl_url)], None, None, None
            )
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key

    def crl(self, revoked: list[int] = (), signer: rsa.RSAPrivateKey | None = None) -> bytes:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.name)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(hours=1))
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        crl = builder.sign(signer or self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER)

    def write_root(self, folder: Path) -> str:
        path = folder / "foreign-root.pem"
        path.write_bytes(self.pem())
        return str(path)


@dataclass
class CrlServer:
    base: str
    bodies: dict[str, bytes] = field(default_factory=dict)  # path → CRL, set at any time
    hits: list[str] = field(default_factory=list)


@contextmanager
def crl_server() -> Iterator[CrlServer]:
    """An HTTP server on 127.0.0.1 publishing ``bodies``; 404 for other paths."""
    published = CrlServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            published.hits.append(self.path)
            body = published.bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    published.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield published
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on a port nothing listens on (bound then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/foreign.crl"
