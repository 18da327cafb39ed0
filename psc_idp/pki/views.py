"""``/pki``: what relying parties fetch from the test PKI.

- ``GET /pki/crl/<slug>.crl``: the CA's current CRL (DER, ``application/pkix-crl``), the URL
  written in the CRL distribution point of every certificate it issued;
- ``GET /pki/ca/<slug>.pem``: the CA certificate, to install as a trust anchor.

Slugs: ``racine``, ``personnes``, ``organisations``."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Response, abort

from psc_idp.extensions import db
from psc_idp.pki.hierarchy import get_hierarchy
from psc_idp.pki.names import AUTHORITY_NAMES
from psc_idp.pki.revocation import current_crl

bp = Blueprint("pki", __name__, url_prefix="/pki")


@bp.get("/crl/<slug>.crl")
def crl(slug: str) -> Response:
    if slug not in AUTHORITY_NAMES:
        abort(404)
    der = current_crl(slug)
    db.session.commit()  # a rebuilt CRL (new cRLNumber) is shared with the other instances
    response = Response(der, mimetype="application/pkix-crl")
    # Revocations must show at once; relying parties still cache until nextUpdate.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.crl"'
    return response


@bp.get("/ca/<slug>.pem")
def ca_certificate(slug: str) -> Response:
    authority = get_hierarchy().authority(slug) if slug in AUTHORITY_NAMES else None
    if authority is None:
        abort(404)
    pem = authority.certificate.public_bytes(serialization.Encoding.PEM)
    response = Response(pem, mimetype="application/x-pem-file")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.pem"'
    return response
