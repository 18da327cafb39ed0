"""Names of the IGC-Santé test hierarchy and the name forms of CPS card certificates
(psc-reference §9): authority DNs, the card subject with its multi-valued RDN, the UPN otherName.
"""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID, ObjectIdentifier

#: Microsoft User Principal Name, carried in an otherName of the subjectAltName.
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
#: Microsoft Smartcard Logon extended key usage, present on real CPS authentication certificates.
SMARTCARD_LOGON_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")
UPN_DOMAIN = "carte-cps.fr"

#: slug → common name. The slug names the files under keys/pki/ and the CRL/CA URLs.
AUTHORITY_NAMES = {
    "racine": "TEST AC RACINE IGC-SANTE ELEMENTAIRE",
    "personnes": "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES",
    "organisations": "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
}

#: Short names for ``rfc4514_string``: OpenSSL's, as people read them in ``openssl x509``.
_DN_NAMES = {NameOID.TITLE: "title", NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN"}

# RFC 5280 upper bounds (ub-organization-name, ub-common-name…): longer values are truncated
# rather than refused, as a structure's raison sociale may exceed them.
_UPPER_BOUND = 64


def authority_name(slug: str) -> x509.Name:
    """``C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=<CA name>``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ASIP-SANTE"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "0002 187512751"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IGC-SANTE TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, AUTHORITY_NAMES[slug]),
        ]
    )


def _rdn(oid: ObjectIdentifier, value: str) -> x509.RelativeDistinguishedName | None:
    value = (value or "").strip()[:_UPPER_BOUND]
    return x509.RelativeDistinguishedName([x509.NameAttribute(oid, value)]) if value else None


def card_subject(
    *,
    national_id: str,
    given_name: str,
    surname: str,
    organization: str,
    structure_id: str,
    title: str,
) -> x509.Name:
    """``C=FR, O=<structure>, OU=<structure id>, title=<profession>, GN+CN+SN``; empty parts
    (a practitioner without activity) are left out, as on cards of people without a structure.
    """
    person = [x509.NameAttribute(NameOID.COMMON_NAME, national_id)]
    for oid, value in ((NameOID.GIVEN_NAME, given_name), (NameOID.SURNAME, surname)):
        if value.strip():
            person.append(x509.NameAttribute(oid, value.strip()[:_UPPER_BOUND]))
    rdns = [
        _rdn(NameOID.COUNTRY_NAME, "FR"),
        _rdn(NameOID.ORGANIZATION_NAME, organization),
        _rdn(NameOID.ORGANIZATIONAL_UNIT_NAME, structure_id),
        _rdn(NameOID.TITLE, title),
        x509.RelativeDistinguishedName(person),
    ]
    return x509.Name([rdn for rdn in rdns if rdn is not None])


def org_subject(*, name: str, structure_id: str, service_name: str) -> x509.Name:
    """``C=FR, O=<name>, OU=<structure id>, CN=<service name>`` (ORG AUTH_CLI)."""
    rdns = [
        _rdn(NameOID.COUNTRY_NAME, "FR"),
        _rdn(NameOID.ORGANIZATION_NAME, name),
        _rdn(NameOID.ORGANIZATIONAL_UNIT_NAME, structure_id),
        _rdn(NameOID.COMMON_NAME, service_name),
    ]
    return x509.Name([rdn for rdn in rdns if rdn is not None])


def dn_string(name: x509.Name) -> str:
    """RFC 4514 form (most specific RDN first), with title, GN and SN spelt as OpenSSL does."""
    return name.rfc4514_string(_DN_NAMES)


def first_value(name: x509.Name, oid: ObjectIdentifier) -> str:
    attributes = name.get_attributes_for_oid(oid)
    value = attributes[0].value if attributes else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


# --- UPN otherName: the value is a DER UTF8String ------------------------------------------


def upn_other_name(national_id: str) -> x509.OtherName:
    return x509.OtherName(UPN_OID, _der_utf8(f"{national_id}@{UPN_DOMAIN}"))


def _der_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + data


def decode_der_string(value: bytes) -> str | None:
    """Text of a DER UTF8String, PrintableString, IA5String or BMPString; None otherwise."""
    if len(value) < 2 or value[0] not in (0x0C, 0x13, 0x16, 0x1E):
        return None
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(value) < 2 + count:
            return None
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    body = value[offset : offset + length]
    if len(body) != length:
        return None
    try:
        return body.decode("utf-16-be" if value[0] == 0x1E else "utf-8")
    except UnicodeDecodeError:
        return None


def subject_alt_names(cert: x509.Certificate) -> dict[str, tuple[str, ...]]:
    """SAN values by kind, the kinds RFC 8705 client metadata matches on (plus ``upn``)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    found: dict[str, list[str]] = {}
    for general_name in san:
        if isinstance(general_name, x509.OtherName):
            text = decode_der_string(general_name.value)
            if general_name.type_id == UPN_OID and text is not None:
                found.setdefault("upn", []).append(text)
            continue
        kind = {
            x509.DNSName: "dns",
            x509.UniformResourceIdentifier: "uri",
            x509.RFC822Name: "email",
            x509.IPAddress: "ip",
            x509.DirectoryName: "dn",
        }.get(type(general_name))
        if kind is not None:
            value = general_name.value
            shown = dn_string(value) if kind == "dn" else str(value)
            found.setdefault(kind, []).append(shown)
    return {kind: tuple(values) for kind, values in found.items()}


# --- fingerprints and file names -------------------------------------------------------------


def sha256_thumbprint(cert: x509.Certificate) -> str:
    """base64url SHA-256 of the DER certificate, as ``x5t#S256`` (RFC 8705) wants it."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def colon_fingerprint(cert: x509.Certificate) -> str:
    """``AB:CD:…`` SHA-256 fingerprint, as browsers and ``openssl x509 -fingerprint`` show it."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def normalise_serial(text: str) -> str | None:
    """``3A:0F…``, ``0x3a0f…`` or ``3a0f…`` → ``3a0f…``; None if not hexadecimal."""
    compact = re.sub(r"[\s:]", "", text or "").lower().removeprefix("0x")
    if not compact or not re.fullmatch(r"[0-9a-f]+", compact):
        return None
    return compact.lstrip("0") or "0"


def safe_file_stem(value: str) -> str:
    """A file name from a national id: staff ids hold ``/`` (``30B0057881/CPET0002``)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", value).lstrip(".")
    return stem or "certificat"
