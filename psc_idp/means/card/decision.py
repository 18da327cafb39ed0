"""Approving a CARD-channel CIBA request with the CPS card, as CPS-Gestion does: a JWS over the
request id, the decision, the binding message and the time, signed with the card's key, its
certificate in ``x5c``. The certificate is verified like a card login (chain, dates, usage,
revocation, active professional)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from psc_idp.extensions import db
from psc_idp.jose_header import unverified_header
from psc_idp.pki import CertificateRejected, verify_client_certificate
from psc_idp.protocol.ciba import approval
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.replay import accept_once

DECISION_TYP = "cps-ciba-decision+jwt"
DECISIONS = {"approve": "approved", "deny": "denied"}
ALGS = ["RS256", "PS256", "ES256"]
MAX_AGE = 120


class CardDecisionRefused(ValueError):
    """``reason`` for machines, the message (French) for the professional."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def sign_decision(
    request: CibaRequest, decision: str, certificate: x509.Certificate, key: Any
) -> str:
    """What the card holder's software signs (``psc-idp cps approve``, the wallet page)."""
    claims = {
        "request_id": request.id,
        "decision": decision,
        "binding_message": request.binding_message,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
    }
    der = certificate.public_bytes(Encoding.DER)
    headers = {"typ": DECISION_TYP, "x5c": [base64.b64encode(der).decode()]}
    alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def decide_with_card(token: str) -> tuple[CibaRequest, str]:
    """Check a card-signed decision and apply it; returns the request and its new status."""
    certificate = _certificate(token)
    try:
        verified = verify_client_certificate(certificate, purpose="card")
    except CertificateRejected as rejection:
        raise CardDecisionRefused(rejection.reason, rejection.message_fr) from rejection
    claims = _claims(token, certificate)
    request = db.session.get(CibaRequest, str(claims.get("request_id", ""))[:64])
    if request is None or request.national_id != verified.national_id or request.channel != "CARD":
        raise CardDecisionRefused("unknown_request", "Demande inconnue pour cette carte.")
    if claims.get("binding_message", "") != request.binding_message:
        raise CardDecisionRefused("invalid_decision", "Le code de liaison ne correspond pas.")
    if approval.state(request) != "pending":
        raise CardDecisionRefused("request_closed", "Cette demande n'est plus en attente.")
    if not approval.decide(request, DECISIONS[claims["decision"]]):
        raise CardDecisionRefused("request_closed", "Cette demande a déjà été traitée.")
    return request, request.status


def _certificate(token: str) -> x509.Certificate:
    try:
        header = unverified_header(token)
        if header.get("typ") != DECISION_TYP:
            raise ValueError("wrong typ")
        return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise CardDecisionRefused("invalid_decision", "Décision illisible.") from error


def _claims(token: str, certificate: x509.Certificate) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            certificate.public_key(),
            algorithms=ALGS,
            options={"verify_aud": False, "require": ["iat", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise CardDecisionRefused(
            "invalid_signature", "Décision non signée par cette carte."
        ) from error
    if claims.get("decision") not in DECISIONS or abs(claims["iat"] - time.time()) > MAX_AGE:
        raise CardDecisionRefused("invalid_decision", "Décision invalide ou trop ancienne.")
    if not accept_once(f"ciba-card\0{claims['jti']}", claims["iat"] + MAX_AGE * 2):
        raise CardDecisionRefused("replayed_decision", "Cette décision a déjà été reçue.")
    return claims
