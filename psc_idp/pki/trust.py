"""Trust anchors and chain policy for client certificates, and reading certificates in the forms
a TLS terminator hands them over.

Anchors: the test root (unless ``pki_trust_test_pki`` is off) and the PEM files listed in
``pki_extra_trust_anchors`` (e.g. the real IGC-Santé test roots). The policy is deliberately
lenient with extensions, because real IGC-Santé certificates predate the Web PKI profile that
cryptography applies by default; it still requires every issuer to be a CA."""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from cryptography import x509
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy

from psc_idp.pki.errors import CertificateRejected
from psc_idp.pki.hierarchy import get_hierarchy
from psc_idp.pki.settings import pki_setting

log = logging.getLogger(__name__)

#: A certificate chain in a header or form field is a few KB; refuse to parse megabytes.
MAX_INPUT_BYTES = 256 * 1024


def _must_be_ca(_policy: Policy, _cert: x509.Certificate, value: x509.BasicConstraints) -> None:
    if not value.ca:
        raise ValueError("issuer is not a CA")


def _may_sign_certificates(
    _policy: Policy, _cert: x509.Certificate, value: x509.KeyUsage | None
) -> None:
    if value is not None and not value.key_cert_sign:
        raise ValueError("issuer may not sign certificates")


CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _must_be_ca)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _may_sign_certificates)
)
#: The leaf's usages are checked afterwards, to report them as ``wrong_key_usage``.
EE_POLICY = ExtensionPolicy.permit_all()


@dataclass(frozen=True)
class Anchors:
    roots: list[x509.Certificate]
    #: Our issuing CAs, so that a client sending only its own certificate is still verified.
    intermediates: list[x509.Certificate]
    test_root: x509.Certificate | None
    card_ca: x509.Certificate | None
    org_ca: x509.Certificate | None


def trust_anchors() -> Anchors:
    roots: list[x509.Certificate] = []
    for path in pki_setting("pki_extra_trust_anchors"):
        roots.extend(_pem_file(path, _mtime(path)))
    if not pki_setting("pki_trust_test_pki"):
        return Anchors(roots, [], None, None, None)
    hierarchy = get_hierarchy()
    card_ca, org_ca = hierarchy.personnes.certificate, hierarchy.organisations.certificate
    test_root = hierarchy.root.certificate
    return Anchors([test_root, *roots], [card_ca, org_ca], test_root, card_ca, org_ca)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=32)
def _pem_file(path: str, _mtime_ns: int) -> tuple[x509.Certificate, ...]:
    """Certificates of a PEM file, cached until the file changes."""
    try:
        with open(path, "rb") as handle:
            return tuple(x509.load_pem_x509_certificates(handle.read()))
    except (OSError, ValueError) as error:
        # A wrong path must not turn every login into a server error; it is logged instead.
        log.error("trust anchors %s unreadable: %s", path, error)
        return ()


def load_certificates(value: x509.Certificate | bytes | str) -> list[x509.Certificate]:
    """Certificates from an object, DER, PEM (one or several), URL-encoded PEM (nginx
    ``$ssl_client_escaped_cert``, load balancers' headers) or bare base64 DER."""
    if isinstance(value, x509.Certificate):
        return [value]
    try:
        data = _text_bytes(value) if isinstance(value, str) else bytes(value)
        if len(data) > MAX_INPUT_BYTES:
            raise ValueError("certificate input too large")
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except (ValueError, TypeError, binascii.Error) as error:
        raise CertificateRejected("untrusted_chain", "Certificat client illisible.") from error


def _text_bytes(text: str) -> bytes:
    text = text.strip()
    if "%" in text:  # never in PEM nor base64: URL-encoded
        text = unquote(text)
    if "-----BEGIN" in text:
        # nginx's legacy $ssl_client_cert indents continuation lines with a tab.
        return text.replace("\t", "").encode()
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
