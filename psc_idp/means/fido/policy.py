"""Which security keys may be enrolled (the « liste des clés FIDO compatibles »): attestation
formats, trust anchors, an optional AAGUID allow-list. python-fido2 verifies each statement."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.attestation import Attestation, AttestationType, verify_x509_chain
from fido2.attestation.base import InvalidAttestation

from psc_idp.config import current_settings


class AttestationRefused(ValueError):
    """``reason`` for machines, the message (French) for the professional."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _anchors() -> list[bytes]:
    ders: list[bytes] = []
    for path in current_settings().fido_trust_anchors:
        try:
            certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError) as error:
            # Refuse rather than enrol against a policy that cannot be read.
            raise AttestationRefused(
                "misconfigured", "La liste des fabricants de clés reconnus est illisible."
            ) from error
        ders.extend(cert.public_bytes(Encoding.DER) for cert in certificates)
    return ders


def verify_attestation(attestation_object, client_data_hash: bytes) -> None:
    """Fido2Server's ``verify_attestation`` hook: raise to refuse the key."""
    settings = current_settings()
    fmt = attestation_object.fmt
    if fmt not in settings.fido_attestation_formats:
        raise AttestationRefused(
            "format", f"Cette clé utilise une attestation « {fmt} » non acceptée."
        )
    aaguid = str(attestation_object.auth_data.credential_data.aaguid)
    allowed = {a.lower() for a in settings.fido_aaguid_allowlist}
    if allowed and aaguid.lower() not in allowed:
        raise AttestationRefused(
            "aaguid", "Ce modèle de clé ne figure pas dans la liste des clés FIDO compatibles."
        )
    try:
        result = Attestation.for_type(fmt)().verify(
            attestation_object.att_stmt, attestation_object.auth_data, client_data_hash
        )
    except InvalidAttestation as error:
        raise AttestationRefused("invalid", "L'attestation de la clé est invalide.") from error
    anchors = _anchors()
    if not anchors:
        return  # no anchors configured: any valid statement, self and none included
    if result.attestation_type in (AttestationType.NONE, AttestationType.SELF):
        raise AttestationRefused("untrusted", "Cette clé ne présente pas d'attestation vérifiable.")
    for anchor in anchors:
        try:
            verify_x509_chain(result.trust_path + [anchor])
            return
        except (InvalidAttestation, ValueError):
            continue
    raise AttestationRefused(
        "untrusted", "L'attestation de la clé n'est signée par aucun fabricant reconnu."
    )
