"""The hierarchy: generated once under keys/pki, reloaded identically, safe with two processes
starting at once; names and extensions as IGC-Santé; the TLS server certificate."""

from __future__ import annotations

import ipaddress
import json
import stat
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask

from psc_idp.pki import get_hierarchy
from psc_idp.pki.hierarchy import MARKER, _issue_server, load_hierarchy
from psc_idp.pki.names import colon_fingerprint

PERSONNES_DN = (
    "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, "
    "CN=TEST AC IGC-SANTE ELEMENTAIRE PERSONNES"
)


def _in_reference_order(name: x509.Name) -> str:
    """The DN as the reference writes it: encoding order, most general RDN first."""
    short = {
        NameOID.COUNTRY_NAME: "C",
        NameOID.ORGANIZATION_NAME: "O",
        NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
        NameOID.COMMON_NAME: "CN",
    }
    return ", ".join(f"{short[a.oid]}={a.value}" for a in name)


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def test_files_are_created_with_private_keys_readable_by_owner_only(
    app: Flask, pki_keys_dir: Path
) -> None:
    folder = pki_keys_dir / "pki"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for slug in ("racine", "personnes", "organisations", "server"):
        assert (folder / f"{slug}.crt.pem").exists()
        assert stat.S_IMODE((folder / f"{slug}.key.pem").stat().st_mode) == 0o600
    info = json.loads((folder / MARKER).read_text())
    assert set(info["sha256"]) == {"racine", "personnes", "organisations"}


def test_authorities_carry_the_igc_sante_names(app: Flask) -> None:
    with app.app_context():
        hierarchy = get_hierarchy()
    assert _in_reference_order(hierarchy.personnes.certificate.subject) == PERSONNES_DN
    assert _in_reference_order(hierarchy.organisations.certificate.subject) == (
        PERSONNES_DN.replace("PERSONNES", "ORGANISATIONS")
    )
    root = hierarchy.root.certificate
    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "TEST AC RACINE IGC-SANTE ELEMENTAIRE"
    )


def test_authorities_have_ca_extensions_and_chain_to_the_root(app: Flask) -> None:
    with app.app_context():
        hierarchy = get_hierarchy()
    root = hierarchy.root.certificate
    root.verify_directly_issued_by(root)
    assert _ext(root, x509.BasicConstraints).value.path_length == 1
    root_ski = _ext(root, x509.SubjectKeyIdentifier).value.digest
    for authority in (hierarchy.personnes, hierarchy.organisations):
        cert = authority.certificate
        cert.verify_directly_issued_by(root)
        constraints = _ext(cert, x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
        usage = _ext(cert, x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        assert not usage.value.digital_signature
        assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
        points = _ext(cert, x509.CRLDistributionPoints).value
        assert points[0].full_name[0].value == "http://localhost:8080/pki/crl/racine.crl"
        assert cert.public_key().key_size >= 3072


def test_hierarchy_is_loaded_once_and_reloaded_identically(app: Flask) -> None:
    with app.app_context():
        first = get_hierarchy()
        assert get_hierarchy() is first  # cached for the process
    again = load_hierarchy(first.folder, base_url="http://localhost:8080")
    for old, new in zip(first.authorities, again.authorities, strict=True):
        der = serialization.Encoding.DER
        assert old.certificate.public_bytes(der) == new.certificate.public_bytes(der)
        assert old.key.private_numbers() == new.key.private_numbers()
    assert again.server_certificate == first.server_certificate


_START = """
import sys
from pathlib import Path
from psc_idp.pki.hierarchy import load_hierarchy
from psc_idp.pki.names import colon_fingerprint
h = load_hierarchy(Path(sys.argv[1]), base_url="http://localhost:8080")
print(colon_fingerprint(h.root.certificate), colon_fingerprint(h.server_certificate))
"""


def test_two_processes_starting_at_once_share_one_hierarchy(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", _START, str(folder)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in starts]
    assert all(process.returncode == 0 for process in starts)
    assert outputs[0] == outputs[1]
    loaded = load_hierarchy(folder, base_url="http://localhost:8080")
    assert outputs[0].split()[0] == colon_fingerprint(loaded.root.certificate)
    assert not list(folder.glob(".*.tmp"))


def test_server_certificate_for_localhost(app: Flask) -> None:
    with app.app_context():
        hierarchy = get_hierarchy()
    cert = x509.load_pem_x509_certificate(hierarchy.server_cert_path.read_bytes())
    cert.verify_directly_issued_by(hierarchy.organisations.certificate)
    names = _ext(cert, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert _ext(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    chain = x509.load_pem_x509_certificates(hierarchy.server_fullchain_path.read_bytes())
    assert chain == [cert, hierarchy.organisations.certificate]
    key = serialization.load_pem_private_key(hierarchy.server_key_path.read_bytes(), None)
    assert key.public_key() == cert.public_key()


def test_server_certificate_close_to_expiry_is_renewed_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    first = load_hierarchy(folder, base_url="https://idp.example.test:8443", hostnames=["10.0.0.5"])
    names = _ext(first.server_certificate, x509.SubjectAlternativeName).value
    assert "idp.example.test" in names.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.0.0.5") in names.get_values_for_type(x509.IPAddress)
    _issue_server(folder, first.organisations, "http://localhost:8080", [], days=5)
    renewed = load_hierarchy(folder, base_url="http://localhost:8080")
    lifetime = renewed.server_certificate.not_valid_after_utc - (
        renewed.server_certificate.not_valid_before_utc
    )
    assert lifetime.days >= 397  # the 5-day certificate was replaced at load
    assert renewed.root.certificate == first.root.certificate  # only the server certificate


def test_ca_certificates_are_served(app: Flask) -> None:
    http = app.test_client()
    with app.app_context():
        hierarchy = get_hierarchy()
    for authority in hierarchy.authorities:
        response = http.get(f"/pki/ca/{authority.slug}.pem")
        assert response.status_code == 200
        assert x509.load_pem_x509_certificate(response.data) == authority.certificate
    assert http.get("/pki/ca/inconnue.pem").status_code == 404
    assert http.get("/pki/crl/inconnue.crl").status_code == 404
