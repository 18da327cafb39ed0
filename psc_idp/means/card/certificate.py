"""The one card check: the certificate this request presents (own TLS listener or trusted
proxy, ``psc_idp.tls``), verified as a card (chain, dates, usage, revocation: ``psc_idp.pki``)."""

from __future__ import annotations

from flask import request

from psc_idp.pki import CertificateRejected, VerifiedCertificate, verify_client_certificate
from psc_idp.tls.presented import UnreadableCertificate, presented_certificate

UNREADABLE = "Le certificat présenté est illisible."


def presented_card(missing: str) -> tuple[VerifiedCertificate | None, str]:
    """The verified card, or None and why in French (``missing`` when none is presented)."""
    try:
        certificate = presented_certificate(request)
    except UnreadableCertificate:
        return None, UNREADABLE
    if certificate is None:
        return None, missing
    try:
        return verify_client_certificate(certificate, purpose="card"), ""
    except CertificateRejected as rejection:
        return None, rejection.message_fr


def on_certificate_origin() -> bool:
    """Whether this request came where a certificate is asked (TLS here or at the proxy)."""
    return request.is_secure or "SSL_CLIENT_CERT" in request.environ
