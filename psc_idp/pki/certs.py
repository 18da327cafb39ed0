"""Certificate templates shared by the hierarchy and the issuing functions.

Every certificate carries SKI/AKI and, below the root, a CRL distribution point: OpenSSL's strict
mode (Python 3.13 default contexts) and most TLS stacks want them, and relying parties need the
CRL URL to check revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from psc_idp.pki.errors import PkiError

CA_KEY_SIZE = 3072  # 128-bit security, generated in well under a second
LEAF_KEY_SIZE = 2048
#: Certificates start a little in the past: clocks of containers and test machines drift.
BACKDATE = timedelta(minutes=10)


def new_key(size: int = LEAF_KEY_SIZE) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def utc(moment: datetime) -> datetime:
    """Aware UTC; naive values are taken as UTC (what the database stores)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def crl_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/pki/crl/{slug}.crl"


def key_usage(
    *, digital_signature: bool = False, key_encipherment: bool = False, ca: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Signer:
    """What signs a certificate: the issuer's name, key and (except for the root) certificate."""

    name: x509.Name
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate | None = None


def validity(
    *,
    days: int,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    issuer: x509.Certificate | None = None,
) -> tuple[datetime, datetime]:
    """The validity window; by default never beyond the issuer's own. Explicit dates outside
    the issuer's validity are refused: no relying party could ever accept such a chain."""
    now = datetime.now(UTC)
    start = utc(not_before) if not_before else now - BACKDATE
    end = utc(not_after) if not_after else (start if not_before else now) + timedelta(days=days)
    if issuer is not None:
        if not_after is None:
            end = min(end, issuer.not_valid_after_utc)
        if start < issuer.not_valid_before_utc or end > issuer.not_valid_after_utc:
            raise PkiError(
                "Dates hors de la validité de l'autorité émettrice "
                f"({issuer.not_valid_before_utc:%d/%m/%Y} – {issuer.not_valid_after_utc:%d/%m/%Y})."
            )
    if end <= start:
        raise PkiError("La fin de validité doit suivre le début de validité.")
    return start, end


def build(
    *,
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    signer: Signer,
    window: tuple[datetime, datetime],
    extensions: list[tuple[x509.ExtensionType, bool]],
    crl: str | None,
    serial: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.name)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if signer.certificate is not None:
        ski = signer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)
    else:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key())
    builder = builder.add_extension(aki, critical=False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    if crl:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(signer.key, hashes.SHA256())


def ca_extensions(path_length: int) -> list[tuple[x509.ExtensionType, bool]]:
    return [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (key_usage(ca=True), True),
    ]


def leaf_extensions(
    eku: list[x509.ObjectIdentifier], usage: x509.KeyUsage
) -> list[tuple[x509.ExtensionType, bool]]:
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
    ]
    if eku:
        extensions.append((x509.ExtendedKeyUsage(eku), False))
    return extensions


SERVER_EKU = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT_EKU = [ExtendedKeyUsageOID.CLIENT_AUTH]
