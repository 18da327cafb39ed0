"""``tls_client_auth`` (RFC 8705 §2.1): the client authenticates with its TLS certificate, an
ORG AUTH_CLI certificate chaining to a trusted authority, whose subject DN (or SAN DNS name)
is the one registered for the client."""

from __future__ import annotations

import base64
import hashlib

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import request as flask_request

from psc_idp.pki import CertificateRejected, verify_client_certificate
from psc_idp.protocol.models import Client
from psc_idp.tls.presented import UnreadableCertificate, presented_certificate

METHOD = "tls_client_auth"


def thumbprint(certificate: x509.Certificate) -> str:
    """``x5t#S256``: base64url SHA-256 of the DER certificate (RFC 8705 §3.1)."""
    digest = hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def current_certificate() -> x509.Certificate | None:
    try:
        return presented_certificate(flask_request)
    except UnreadableCertificate:
        return None


def authenticate_tls_client(query_client, request: OAuth2Request) -> Client | None:
    client_id = request.payload.client_id
    certificate = current_certificate()
    if not client_id or certificate is None:
        return None
    client = query_client(client_id)
    if client is None or client.token_endpoint_auth_method != METHOD:
        return None
    try:
        verify_client_certificate(certificate, purpose="org")
    except CertificateRejected as rejection:
        raise InvalidClientError(
            status_code=401, description=f"Client certificate refused: {rejection.reason}"
        ) from rejection
    if not _matches(client, certificate):
        raise InvalidClientError(
            status_code=401, description="Client certificate does not match the registration"
        )
    return client


def _matches(client: Client, certificate: x509.Certificate) -> bool:
    if client.tls_client_auth_subject_dn:
        try:
            expected = x509.Name.from_rfc4514_string(client.tls_client_auth_subject_dn)
        except ValueError:
            return False
        return expected.rfc4514_string() == certificate.subject.rfc4514_string()
    if client.tls_client_auth_san_dns:
        try:
            names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return False
        return client.tls_client_auth_san_dns in names.value.get_values_for_type(x509.DNSName)
    return False
