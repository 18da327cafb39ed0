"""An issued certificate with its key, and its export as PEM files and PKCS#12.

The PKCS#12 holds the key, the certificate and the chain (issuing CA, root) so that a browser
import gives a complete client certificate; its friendly name (``CPS <national id>``) is what
Chromium and Firefox list in their certificate choosers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from psc_idp.pki.files import private_pem, write_file
from psc_idp.pki.names import dn_string, safe_file_stem, serial_hex, sha256_thumbprint

P12_ENCRYPTIONS = ("compat", "modern")


@dataclass(frozen=True)
class IssuedCertificate:
    kind: str  # card, org or server
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]  # issuing CA, then the root
    national_id: str | None = None
    structure_id: str | None = None

    @property
    def serial(self) -> str:
        return serial_hex(self.certificate.serial_number)

    @property
    def subject_dn(self) -> str:
        return dn_string(self.certificate.subject)

    @property
    def sha256_thumbprint(self) -> str:
        return sha256_thumbprint(self.certificate)

    @property
    def friendly_name(self) -> str:
        if self.national_id:
            return f"CPS {self.national_id}"
        return f"ORG {self.structure_id or ''} {_common_name(self.certificate)}".strip()

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self) -> bytes:
        return private_pem(self.private_key)

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def pkcs12(self, password: str, encryption: str = "compat") -> bytes:
        return pkcs12.serialize_key_and_certificates(
            self.friendly_name.encode(),
            self.private_key,
            self.certificate,
            list(self.chain),
            _p12_encryption(password, encryption),
        )

    def write_files(
        self,
        folder: str | Path,
        *,
        p12_password: str,
        encryption: str = "compat",
        stem: str | None = None,
    ) -> dict[str, Path]:
        """Write ``<stem>.crt.pem``, ``.key.pem`` (mode 0600), ``.chain.pem`` and ``.p12``.

        The stem defaults to the national id (or structure id), made safe for file names."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = safe_file_stem(stem or self.national_id or self.structure_id or self.serial)
        paths = {
            "certificate": folder / f"{stem}.crt.pem",
            "private_key": folder / f"{stem}.key.pem",
            "chain": folder / f"{stem}.chain.pem",
            "pkcs12": folder / f"{stem}.p12",
        }
        write_file(paths["certificate"], self.certificate_pem())
        write_file(paths["private_key"], self.private_key_pem(), private=True)
        write_file(paths["chain"], self.chain_pem())
        write_file(paths["pkcs12"], self.pkcs12(p12_password, encryption), private=True)
        return paths


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _p12_encryption(password: str, encryption: str) -> serialization.KeySerializationEncryption:
    if not password:
        # An unprotected PKCS#12: Firefox and OpenSSL import it, macOS Keychain does not.
        return serialization.NoEncryption()
    if encryption == "modern":
        return serialization.BestAvailableEncryption(password.encode())
    if encryption != "compat":
        raise ValueError(
            f"chiffrement PKCS#12 inconnu : {encryption} ({', '.join(P12_ENCRYPTIONS)})"
        )
    # 3DES and a SHA-1 MAC: the one profile every browser, Windows and macOS Keychain import.
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode())
    )
