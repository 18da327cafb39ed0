"""Verification of a client certificate presented in mutual TLS: a CPS card (``card``) or an
ORG AUTH_CLI certificate (``org``).

Checks run in a fixed order and the first failure decides the reason: chain to a trusted root,
validity dates, key usage, revocation, then (cards) the practitioner behind the national id.
The chain is built with cryptography's client verifier at a moment inside the leaf's validity,
so that an expired card is reported as ``expired`` rather than as an untrusted chain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.pki import trust
from psc_idp.pki.certs import utc
from psc_idp.pki.crl_fetch import CrlUnavailable, crl_for
from psc_idp.pki.errors import CertificateRejected
from psc_idp.pki.names import (
    dn_string,
    first_value,
    serial_hex,
    sha256_thumbprint,
    subject_alt_names,
)
from psc_idp.pki.revocation import is_revoked
from psc_idp.pki.settings import pki_setting
from psc_idp.timeutil import local_display

Purpose = Literal["card", "org"]
CertificateInput = x509.Certificate | bytes | str


@dataclass(frozen=True)
class VerifiedCertificate:
    purpose: str
    serial: str  # lower-case hexadecimal
    subject_dn: str  # RFC 4514
    issuer_dn: str
    sha256_thumbprint: str  # base64url SHA-256 of the DER: ``cnf.x5t#S256``
    sans: dict[str, tuple[str, ...]]  # dns, uri, ip, email, dn, upn
    national_id: str | None  # cards only
    structure_id: str | None  # subject OU
    not_before: datetime
    not_after: datetime
    from_test_pki: bool
    certificate: x509.Certificate = field(repr=False)
    chain: tuple[x509.Certificate, ...] = field(repr=False)  # leaf first, trust anchor last


def verify_client_certificate(
    cert: CertificateInput,
    chain: Iterable[CertificateInput] = (),
    purpose: Purpose = "card",
    *,
    at: datetime | None = None,
) -> VerifiedCertificate:
    """Verify ``cert`` (with the intermediates the client sent in ``chain``) for ``purpose``;
    raise :class:`CertificateRejected` otherwise. Needs an application context."""
    if purpose not in ("card", "org"):
        raise ValueError(f"purpose must be 'card' or 'org', not {purpose!r}")
    leaf = trust.load_certificates(cert)[0]
    if isinstance(chain, str | bytes | x509.Certificate):
        chain = [chain]  # one PEM bundle, not an iterable of characters
    sent = [c for item in chain for c in trust.load_certificates(item)]
    moment = utc(at) if at else datetime.now(UTC)
    anchors = trust.trust_anchors()
    path = _build_path(leaf, sent + anchors.intermediates, anchors.roots, moment)
    ours = anchors.test_root is not None and path[-1] == anchors.test_root
    if ours:
        _check_issuing_ca(path, purpose, anchors)
    _check_dates(path, moment)
    _check_usage(leaf, purpose)
    _check_revocation(path, ours)
    sans = subject_alt_names(leaf)
    national_id = _practitioner_id(leaf, sans) if purpose == "card" else None
    return VerifiedCertificate(
        purpose=purpose,
        serial=serial_hex(leaf.serial_number),
        subject_dn=dn_string(leaf.subject),
        issuer_dn=dn_string(leaf.issuer),
        sha256_thumbprint=sha256_thumbprint(leaf),
        sans=sans,
        national_id=national_id,
        structure_id=first_value(leaf.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) or None,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        from_test_pki=ours,
        certificate=leaf,
        chain=tuple(path),
    )


def _build_path(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: list[x509.Certificate],
    moment: datetime,
) -> list[x509.Certificate]:
    if not roots:
        raise CertificateRejected("untrusted_chain", "Aucune autorité de confiance configurée.")
    # Inside the leaf's validity: dates are reported by _check_dates with their own reason.
    when = min(max(moment, leaf.not_valid_before_utc), leaf.not_valid_after_utc)
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(when)
        .extension_policies(ca_policy=trust.CA_POLICY, ee_policy=trust.EE_POLICY)
        .build_client_verifier()
    )
    try:
        return list(verifier.verify(leaf, intermediates).chain)
    except VerificationError as error:
        raise CertificateRejected(
            "untrusted_chain",
            "Le certificat n'est pas émis par une autorité de confiance (IGC-Santé).",
        ) from error


def _check_issuing_ca(path: list[x509.Certificate], purpose: str, anchors: trust.Anchors) -> None:
    """In the test PKI, cards come from PERSONNES and software from ORGANISATIONS only."""
    expected = anchors.card_ca if purpose == "card" else anchors.org_ca
    if len(path) < 2 or path[1] != expected:
        wanted = "des personnes" if purpose == "card" else "des organisations"
        raise CertificateRejected(
            "untrusted_chain", f"Le certificat n'est pas émis par l'autorité {wanted}."
        )


def _check_dates(path: list[x509.Certificate], moment: datetime) -> None:
    for position, cert in enumerate(path):
        whose = "Le certificat" if position == 0 else "Le certificat de l'autorité émettrice"
        if moment < cert.not_valid_before_utc:
            day = local_display(cert.not_valid_before_utc)
            raise CertificateRejected(
                "not_yet_valid", f"{whose} n'est valable qu'à partir du {day}."
            )
        if moment > cert.not_valid_after_utc:
            day = local_display(cert.not_valid_after_utc)
            raise CertificateRejected("expired", f"{whose} a expiré le {day}.")


def _extension(cert: x509.Certificate, kind: type) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_usage(leaf: x509.Certificate, purpose: str) -> None:
    usage = _extension(leaf, x509.KeyUsage)
    extended = _extension(leaf, x509.ExtendedKeyUsage)
    constraints = _extension(leaf, x509.BasicConstraints)
    signs = usage is not None and usage.digital_signature
    # A card must say what it is for; an ORG certificate without KeyUsage may sign anything.
    usage_ok = signs if purpose == "card" else (usage is None or signs)
    client_auth = extended is not None and ExtendedKeyUsageOID.CLIENT_AUTH in extended
    is_ca = constraints is not None and constraints.ca
    if not (usage_ok and client_auth) or is_ca:
        raise CertificateRejected(
            "wrong_key_usage",
            "Le certificat ne permet pas l'authentification d'un client TLS "
            "(usage de clé signature numérique et usage étendu clientAuth requis).",
        )


def _check_revocation(path: list[x509.Certificate], ours: bool) -> None:
    if ours:
        # Our CAs are never revoked; the register of issued certificates is the truth for the
        # leaf, so a revocation is seen before any CRL is fetched or refreshed.
        if is_revoked(serial_hex(path[0].serial_number)):
            raise CertificateRejected("revoked", "Le certificat a été révoqué.")
        return
    fail_open = bool(pki_setting("pki_crl_fail_open"))
    for cert, issuer in zip(path[:-1], path[1:], strict=True):
        try:
            crl = crl_for(cert, issuer)
        except CrlUnavailable as error:
            if fail_open:
                continue
            raise CertificateRejected(
                "crl_unavailable",
                "La liste de révocation de l'autorité est indisponible : le certificat ne peut "
                "pas être vérifié.",
            ) from error
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            whose = "Le certificat" if cert is path[0] else "L'autorité émettrice"
            raise CertificateRejected("revoked", f"{whose} a été révoqué(e).")


def _valid_id(text: str) -> str | None:
    try:
        return validate_national_id(text)
    except InvalidNationalId:
        return None


def _practitioner_id(leaf: x509.Certificate, sans: dict[str, tuple[str, ...]]) -> str:
    """The national id in the subject CN, or else in the UPN local part, whose practitioner
    exists and is active (how a relying party maps a CPS card to a professional)."""
    cn = first_value(leaf.subject, NameOID.COMMON_NAME).strip()
    upns = sans.get("upn", ())
    upn_local = upns[0].rpartition("@")[0].strip() if upns else ""
    from_cn, from_upn = _valid_id(cn), _valid_id(upn_local)
    if from_cn and from_upn and from_cn != from_upn:
        raise CertificateRejected(
            "unknown_identity", "Le CN et l'UPN du certificat désignent deux personnes différentes."
        )
    # A well-formed id first; else the raw value, in case the directory holds an odd one.
    national_id = from_cn or from_upn or cn.upper() or upn_local.upper()
    practitioner = find_practitioner(national_id) if national_id else None
    if practitioner is None:
        raise CertificateRejected(
            "unknown_identity",
            "Aucun professionnel de santé ne correspond à l'identifiant national du certificat.",
        )
    if not practitioner.active:
        raise CertificateRejected(
            "inactive", f"Le professionnel {national_id} est inactif : connexion refusée."
        )
    return practitioner.national_id
