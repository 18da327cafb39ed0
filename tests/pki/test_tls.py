"""The files work in real TLS: a server with psc-idp's TLS server certificate that requires a
client certificate from the PERSONNES CA, and a client presenting an issued card."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask

from psc_idp.pki import Hierarchy, get_hierarchy, issue_card, verify_client_certificate
from tests.pki.helpers import DOCTOR, ForeignCa


@dataclass
class Seen:
    peer_der: bytes | None = None
    error: Exception | None = None
    done: threading.Event = field(default_factory=threading.Event)


@contextmanager
def tls_server(hierarchy: Hierarchy) -> Iterator[tuple[int, Seen]]:
    """Accept one connection; remember the client certificate or the handshake error."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(hierarchy.server_fullchain_path, hierarchy.server_key_path)
    context.verify_mode = ssl.CERT_REQUIRED
    # Only the PERSONNES CA (and its root) may vouch for clients.
    context.load_verify_locations(
        cadata=b"".join(
            a.certificate.public_bytes(serialization.Encoding.PEM)
            for a in (hierarchy.root, hierarchy.personnes)
        ).decode()
    )
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    listener = socket.create_server(("127.0.0.1", 0))
    seen = Seen()

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                seen.peer_der = tls.getpeercert(binary_form=True)
                tls.sendall(b"bonjour")
        except (ssl.SSLError, OSError) as error:
            seen.error = error
        finally:
            seen.done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        listener.close()
        thread.join(timeout=10)


def _client(hierarchy: Hierarchy, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(hierarchy.root.cert_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_card_authenticates_in_a_real_handshake(ctx: Flask, tmp_path: Path, host: str) -> None:
    hierarchy = get_hierarchy()
    paths = issue_card(DOCTOR).write_files(tmp_path, p12_password="1234")
    presented = tmp_path / "card-with-chain.pem"  # what a browser sends: card + PERSONNES
    presented.write_bytes(paths["certificate"].read_bytes() + paths["chain"].read_bytes())
    with tls_server(hierarchy) as (port, seen):
        client = _client(hierarchy, presented, paths["private_key"])
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.recv(7) == b"bonjour"
            server_cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        assert seen.done.wait(10)
    assert seen.error is None
    assert server_cert == hierarchy.server_certificate
    peer = x509.load_der_x509_certificate(seen.peer_der)
    assert peer == x509.load_pem_x509_certificate(paths["certificate"].read_bytes())
    # What the server received is what psc-idp accepts as a card.
    assert verify_client_certificate(seen.peer_der).national_id == DOCTOR


def test_a_foreign_card_is_refused_by_the_server(ctx: Flask, tmp_path: Path) -> None:
    hierarchy = get_hierarchy()
    card, key = ForeignCa().card_and_key(DOCTOR)
    cert_file, key_file = tmp_path / "foreign.crt.pem", tmp_path / "foreign.key.pem"
    cert_file.write_bytes(card.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with tls_server(hierarchy) as (port, seen):
        client = _client(hierarchy, cert_file, key_file)
        with (
            pytest.raises((ssl.SSLError, ConnectionError)),
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.recv(7)  # TLS 1.3: the refusal arrives after the client's handshake
        assert seen.done.wait(10)
    assert isinstance(seen.error, ssl.SSLError)
