"""CRLs of other authorities (e.g. the real IGC-Santé test CAs, trusted through
``pki_extra_trust_anchors``): fetched from the certificate's HTTP distribution points with a
timeout, checked against the issuer, and cached in the database until their nextUpdate.

Only certificates that already chain to a trusted root reach this module, so the URLs fetched
are those a trusted authority wrote."""

from __future__ import annotations

import logging
import urllib.request
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import delete, insert
from sqlalchemy.exc import SQLAlchemyError

from psc_idp.extensions import db
from psc_idp.pki.models import PkiCrlCache
from psc_idp.pki.names import dn_string
from psc_idp.pki.settings import pki_setting
from psc_idp.timeutil import now

log = logging.getLogger(__name__)

#: Large enough for the real PERSONNES CRLs (a few MB), small enough not to exhaust memory.
MAX_CRL_BYTES = 32 * 1024 * 1024
#: How long a CRL without nextUpdate is kept.
DEFAULT_CACHE = timedelta(hours=1)


class CrlUnavailable(Exception):
    """No usable CRL could be obtained for a certificate."""


def distribution_urls(cert: x509.Certificate) -> list[str]:
    """HTTP(S) URLs of the certificate's CRL distribution points (LDAP ones are skipped)."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    urls = []
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(
                ("http://", "https://")
            ):
                urls.append(name.value)
    return urls


def crl_for(cert: x509.Certificate, issuer: x509.Certificate) -> x509.CertificateRevocationList:
    """A current CRL of ``issuer`` covering ``cert``, from the cache or its distribution points."""
    urls = distribution_urls(cert)
    if not urls:
        raise CrlUnavailable("no HTTP CRL distribution point")
    problems = []
    for url in urls:
        cached = _cached(url, issuer)
        if cached is not None:
            return cached
        try:
            crl = _fetch(url, issuer)
        except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
            problems.append(f"{url}: {error}")
            continue
        _store(url, crl)
        return crl
    raise CrlUnavailable("; ".join(problems))


def _usable(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
        return False
    return crl.next_update_utc is None or crl.next_update_utc > datetime.now(UTC)


def _cached(url: str, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
    row = db.session.get(PkiCrlCache, url)
    if row is None or row.next_update <= now():
        return None
    crl = x509.load_der_x509_crl(row.der)
    return crl if _usable(crl, issuer) else None


def _fetch(url: str, issuer: x509.Certificate) -> x509.CertificateRevocationList:
    request = urllib.request.Request(url, headers={"User-Agent": "psc-idp"})
    timeout = float(pki_setting("pki_crl_fetch_timeout"))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(MAX_CRL_BYTES + 1)
    if len(data) > MAX_CRL_BYTES:
        raise ValueError("CRL too large")
    crl = (
        x509.load_pem_x509_crl(data)
        if data.lstrip().startswith(b"-----BEGIN")
        else x509.load_der_x509_crl(data)
    )
    if not _usable(crl, issuer):
        raise ValueError("CRL not signed by the issuer, or past its nextUpdate")
    return crl


def _store(url: str, crl: x509.CertificateRevocationList) -> None:
    """Cache on a connection of its own: verification is a read path and must not commit the
    caller's session. A failure only costs a later fetch."""
    next_update = crl.next_update_utc or (datetime.now(UTC) + DEFAULT_CACHE)
    table = PkiCrlCache.__table__
    values = {
        "url": url,
        "issuer_dn": dn_string(crl.issuer)[:1000],
        "der": crl.public_bytes(serialization.Encoding.DER),
        "this_update": crl.last_update_utc,
        "next_update": next_update,
        "fetched_at": now(),
    }
    try:
        with db.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.url == url))
            connection.execute(insert(table).values(**values))
    except SQLAlchemyError as error:  # e.g. another instance cached it at the same moment
        log.warning("CRL %s not cached: %s", url, error)
