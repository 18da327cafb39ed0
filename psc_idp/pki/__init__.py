"""The test PKI: an IGC-Santé-like hierarchy that issues CPS card and ORG AUTH_CLI certificates
as files, publishes CRLs, and verifies client certificates presented in mutual TLS.

Public API (everything else is internal):

- :func:`init_app` — load or create the hierarchy, register ``/pki``, record the TLS server
  certificate; call after the database is set up.
- :func:`get_hierarchy` — the CAs and the TLS server certificate paths.
- :func:`issue_card`, :func:`issue_org` → :class:`IssuedCertificate` (PEM, PKCS#12, files).
- :func:`revoke`, :func:`current_crl`.
- :func:`verify_client_certificate` → :class:`VerifiedCertificate` or
  :class:`CertificateRejected`.
"""

from __future__ import annotations

from flask import Flask

from psc_idp.pki.errors import (
    REJECTION_REASONS,
    CertificateRejected,
    PkiError,
    UnknownPractitioner,
)
from psc_idp.pki.export import IssuedCertificate
from psc_idp.pki.hierarchy import Authority, Hierarchy, get_hierarchy
from psc_idp.pki.issue import issue_card, issue_org
from psc_idp.pki.revocation import REVOCATION_REASONS, current_crl, revoke
from psc_idp.pki.verify import VerifiedCertificate, verify_client_certificate

__all__ = [
    "REJECTION_REASONS",
    "REVOCATION_REASONS",
    "Authority",
    "CertificateRejected",
    "Hierarchy",
    "IssuedCertificate",
    "PkiError",
    "UnknownPractitioner",
    "VerifiedCertificate",
    "current_crl",
    "get_hierarchy",
    "init_app",
    "issue_card",
    "issue_org",
    "revoke",
    "verify_client_certificate",
]


def init_app(app: Flask) -> Hierarchy:
    """Set the PKI up on ``app`` (idempotent): hierarchy on disk, ``/pki`` routes, CRL
    counters and the TLS server certificate in the register."""
    from sqlalchemy.exc import IntegrityError

    from psc_idp.extensions import db
    from psc_idp.pki import views
    from psc_idp.pki.issue import record_server_certificate
    from psc_idp.pki.revocation import ensure_crl_rows

    hierarchy = get_hierarchy(app.extensions["psc_settings"])
    app.extensions["psc_pki"] = hierarchy
    if views.bp.name not in app.blueprints:
        from psc_idp.http.errors import ErrorPolicy, register_policy

        app.register_blueprint(views.bp)
        # Files for machines and browsers alike: the errors of any page of the app.
        register_policy(app, ErrorPolicy("/pki/", json=False, blueprints=("pki",)))
    with app.app_context():
        ensure_crl_rows()
        record_server_certificate(hierarchy)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another instance starting at the same time recorded it
    return hierarchy
