"""The client certificate presented with a request, from one of two places:

1. psc-idp's own TLS listener, which puts it in the WSGI environ (``SSL_CLIENT_CERT``, PEM) —
   a client cannot set an environ key, so it is trusted as is;
2. a reverse proxy that terminated TLS and forwards it in a header — nginx's
   ``$ssl_client_escaped_cert`` (URL-escaped PEM, header ``X-SSL-Client-Cert``) or RFC 9440's
   ``Client-Cert`` (``:base64 DER:``) — trusted only from the addresses in
   ``PSC_TRUSTED_PROXIES`` (none by default)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from cryptography import x509
from flask import Request

from psc_idp.config import current_settings
from psc_idp.http.address import is_trusted_proxy

NGINX_HEADER = "X-SSL-Client-Cert"
RFC9440_HEADER = "Client-Cert"
MAX_HEADER = 16 * 1024


class UnreadableCertificate(ValueError):
    pass


def from_trusted_proxy(request: Request) -> bool:
    return is_trusted_proxy(request.remote_addr or "", current_settings().trusted_proxies)


def presented_certificate(request: Request) -> x509.Certificate | None:
    """The certificate the client presented, or None; ``UnreadableCertificate`` if one was
    forwarded but cannot be parsed."""
    pem = request.environ.get("SSL_CLIENT_CERT")
    if pem:
        return _parse_pem(pem)
    if not from_trusted_proxy(request):
        return None
    escaped = request.headers.get(NGINX_HEADER, "")
    if escaped and escaped != "(null)":
        return _parse_pem(unquote(escaped[:MAX_HEADER]))
    rfc9440 = request.headers.get(RFC9440_HEADER, "")
    if rfc9440:
        return _parse_rfc9440(rfc9440[:MAX_HEADER])
    return None


def _parse_pem(pem: str | bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode())
    except ValueError as error:
        raise UnreadableCertificate("client certificate is not valid PEM") from error


def _parse_rfc9440(value: str) -> x509.Certificate:
    value = value.strip()
    if len(value) < 3 or value[0] != ":" or value[-1] != ":":
        raise UnreadableCertificate("Client-Cert must be a byte sequence :base64:")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(value[1:-1], validate=True))
    except (binascii.Error, ValueError) as error:
        raise UnreadableCertificate("Client-Cert is not a DER certificate") from error
