"""A FIDO2 security key in software, for the tests: what a browser and its authenticator post
back to the wallet (``credential.toJSON()``), built byte by byte with ``cryptography``.

One ``SoftKey`` holds one P-256 credential. ``create`` answers the options of the enrolment page
(attestation ``none``, ``packed`` self-attestation, or ``packed`` with a certificate chain from an
``AttestationCA``); ``get`` answers the options of the login page (an assertion signed over
authenticatorData || SHA-256(clientDataJSON)). Keyword arguments forge the bad cases: another
origin or RP ID, a stale challenge, no user verification, a counter that goes backwards, another
format or AAGUID…

    key = SoftKey()
    posted = key.create(options)                # the « response » field of the form
    posted = key.get(options)                   # signature counter + 1
    posted = key.get(options, counter=0)        # a clone's counter
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2 import cbor

ORIGIN = "http://localhost:8080"  # the wallet's origin in the tests (base_url's default)
RP_ID = "localhost"
#: An AAGUID of our own (random, stable): the « model » of the software key.
SOFT_AAGUID = uuid.UUID("5c0f7e1a-3b55-4c8e-9a61-0d1f2e3c4b5a")
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

# authenticatorData flags (WebAuthn §6.1)
UP, UV, AT, ED = 0x01, 0x04, 0x40, 0x80
ES256 = -7


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fabricant de clés de test"),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


class AttestationCA:
    """A throwaway manufacturer: a root certificate (the trust anchor to configure) that signs
    attestation certificates shaped as WebAuthn §8.2.1 wants for ``packed``."""

    def __init__(self, common_name: str = "Racine d'attestation de test") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        start = datetime.now(UTC) - timedelta(days=1)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, aaguid: uuid.UUID = SOFT_AAGUID) -> Attester:
        """An attestation key and its certificate (with the FIDO AAGUID extension)."""
        key = ec.generate_private_key(ec.SECP256R1())
        start = datetime.now(UTC) - timedelta(days=1)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("Clé de test", "Authenticator Attestation"))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # OCTET STRING (tag 4, 16 bytes) wrapping the AAGUID, not critical.
            .add_extension(
                x509.UnrecognizedExtension(OID_FIDO_AAGUID, b"\x04\x10" + aaguid.bytes),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return Attester(key, [certificate.public_bytes(serialization.Encoding.DER)])


class Attester:
    """What signs a ``packed`` statement with ``x5c``: the attestation key and its chain."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, chain: list[bytes]) -> None:
        self.key = key
        self.chain = chain


class SoftKey:
    """One discoverable credential on a software authenticator (P-256, ES256)."""

    def __init__(self, aaguid: uuid.UUID = SOFT_AAGUID, attester: Attester | None = None) -> None:
        self.aaguid = aaguid
        self.attester = attester
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = 0
        #: user.id of the enrolment options: given back as userHandle (discoverable login).
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor.encode(
            {
                1: 2,  # kty: EC2
                3: ES256,  # alg
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    # --- the pieces -----------------------------------------------------------------------
    @staticmethod
    def client_data(
        kind: str, challenge: str, origin: str = ORIGIN, cross_origin: bool = False
    ) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": cross_origin},
            separators=(",", ":"),
        ).encode()

    def authenticator_data(
        self, rp_id: str, flags: int, counter: int, aaguid: uuid.UUID | None = None
    ) -> bytes:
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
        data += struct.pack(">I", counter)
        if flags & AT:
            data += (aaguid or self.aaguid).bytes
            data += struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self.cose_key()
        return data

    # --- navigator.credentials.create() -------------------------------------------------------
    def create(
        self,
        options: dict[str, Any],
        *,
        fmt: str = "none",
        origin: str = ORIGIN,
        rp_id: str | None = None,
        challenge: str | None = None,
        kind: str = "webauthn.create",
        cross_origin: bool = False,
        user_present: bool = True,
        user_verified: bool = True,
        attested_data: bool = True,
        aaguid: uuid.UUID | None = None,
        counter: int | None = None,
        sign_with: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict[str, Any]:
        """The RegistrationResponseJSON for ``options`` (PublicKeyCredentialCreationOptionsJSON).

        ``fmt``: ``none``, ``packed`` (self-attestation, or x5c when the key has an attester) or
        any other name (an empty statement, for formats the policy refuses). ``sign_with``: the
        key that signs a self-attestation instead of the credential's own (a forgery)."""
        rp_id = rp_id if rp_id is not None else options.get("rp", {}).get("id", RP_ID)
        self.user_handle = unb64url(options["user"]["id"]) if "user" in options else None
        if counter is not None:
            self.counter = counter
        flags = (UP if user_present else 0) | (UV if user_verified else 0)
        flags |= AT if attested_data else 0
        auth_data = self.authenticator_data(rp_id, flags, self.counter, aaguid)
        client_data = self.client_data(
            kind, challenge or options["challenge"], origin, cross_origin
        )
        to_sign = auth_data + hashlib.sha256(client_data).digest()
        if fmt == "packed" and self.attester is not None:
            statement = {
                "alg": ES256,
                "sig": _sign(self.attester.key, to_sign),
                "x5c": list(self.attester.chain),
            }
        elif fmt == "packed":
            statement = {"alg": ES256, "sig": _sign(sign_with or self.private_key, to_sign)}
        else:
            statement = {}
        attestation_object = cbor.encode({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    # --- navigator.credentials.get() ----------------------------------------------------------
    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        challenge: str | None = None,
        kind: str = "webauthn.get",
        cross_origin: bool = False,
        user_present: bool = True,
        user_verified: bool = True,
        counter: int | None = None,
        user_handle: bytes | None = None,
        sign_with: ec.EllipticCurvePrivateKey | None = None,
        ignore_allow_list: bool = False,
    ) -> dict[str, Any]:
        """The AuthenticationResponseJSON for ``options`` (…RequestOptionsJSON). The counter
        grows by one unless ``counter`` is given; ``allowCredentials``, when not empty, must
        name this credential, as a real key would only answer for its own (``ignore_allow_list``:
        a forged answer all the same)."""
        allowed = [c["id"] for c in options.get("allowCredentials") or []]
        if allowed and self.id not in allowed and not ignore_allow_list:
            raise LookupError("this key is not in allowCredentials")
        rp_id = rp_id if rp_id is not None else options.get("rpId", RP_ID)
        self.counter = self.counter + 1 if counter is None else counter
        flags = (UP if user_present else 0) | (UV if user_verified else 0)
        auth_data = self.authenticator_data(rp_id, flags, self.counter)
        client_data = self.client_data(
            kind, challenge or options["challenge"], origin, cross_origin
        )
        signature = _sign(
            sign_with or self.private_key, auth_data + hashlib.sha256(client_data).digest()
        )
        handle = user_handle if user_handle is not None else self.user_handle
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if handle is not None:
            response["userHandle"] = b64url(handle)
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "response": response,
            "clientExtensionResults": {},
        }
