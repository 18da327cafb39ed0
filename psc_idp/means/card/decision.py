"""Approving a CARD-channel CIBA request with the CPS card, as CPS-Gestion does: a JWS over the
request id, the decision, the binding message and the time, signed with the card's key, its
certificate in ``x5c``. The certificate is verified like a card login (chain, dates, usage,
revocation, active professional). The request is known here as its login without a browser
(``login.headless``, same id), and the decision is recorded there like any login."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.jose_header import unverified_header
from psc_idp.login import headless
from psc_idp.login.models import LoginStatus, LoginTransaction
from psc_idp.login.results import AuthResult
from psc_idp.login.transactions import LoginOutcome
from psc_idp.means.card.authenticator import AUTH_MODE, CHANNEL
from psc_idp.pki import CertificateRejected, verify_client_certificate
from psc_idp.replay import accept_once
from psc_idp.timeutil import epoch, now

DECISION_TYP = "cps-ciba-decision+jwt"
DECISIONS = {"approve": "approved", "deny": "denied"}
ALGS = ["RS256", "PS256", "ES256"]
MAX_AGE = 120


class CardDecisionRefused(ValueError):
    """``reason`` for machines, the message (French) for the professional."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def sign_decision(request: Any, decision: str, certificate: x509.Certificate, key: Any) -> str:
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


def decide_with_card(token: str) -> tuple[LoginTransaction, str]:
    """Check a card-signed decision and record it (committed: the CLI's and the page's whole
    work); returns the request's login and ``approved`` or ``denied``."""
    certificate = _certificate(token)
    try:
        verified = verify_client_certificate(certificate, purpose="card")
    except CertificateRejected as rejection:
        raise CardDecisionRefused(rejection.reason, rejection.message_fr) from rejection
    claims = _claims(token, certificate)
    login = db.session.get(LoginTransaction, str(claims.get("request_id", ""))[:64])
    if login is None or not headless.is_headless(login, CHANNEL):
        raise CardDecisionRefused("unknown_request", "Demande inconnue pour cette carte.")
    if login.login_hint != verified.national_id:
        raise CardDecisionRefused("unknown_request", "Demande inconnue pour cette carte.")
    if claims.get("binding_message", "") != login.params.get("binding_message", ""):
        raise CardDecisionRefused("invalid_decision", "Le code de liaison ne correspond pas.")
    if not is_waiting(login):
        raise CardDecisionRefused("request_closed", "Cette demande n'est plus en attente.")
    if not record_decision(login, approve=claims["decision"] == "approve"):
        raise CardDecisionRefused("request_closed", "Cette demande a déjà été traitée.")
    db.session.commit()
    return login, decision_status(login)


@dataclass(frozen=True)
class PendingRequest:
    """A CARD-channel request as the card holder sees it."""

    id: str
    client_id: str
    client_name: str
    binding_message: str


def pending_requests(national_id: str) -> list[PendingRequest]:
    """The card holder's requests still waiting, oldest first."""
    return [
        PendingRequest(tx.id, tx.client_id, tx.client_name, tx.params.get("binding_message", ""))
        for tx in headless.pending(national_id, CHANNEL)
    ]


def is_waiting(login: LoginTransaction) -> bool:
    return login.status == LoginStatus.PENDING and login.expires_at > now()


def record_decision(login: LoginTransaction, approve: bool) -> bool:
    """The card holder's answer, as the outcome of the login; True if it ended the login."""
    if approve:
        acr = current_settings().acr_by_auth_mode[AUTH_MODE]
        outcome = LoginOutcome(login.login_hint, AUTH_MODE, acr, epoch())
        return headless.record(login, AuthResult.success(outcome))
    return headless.record(login, AuthResult.failure("Refusé avec la carte CPS."))


def decision_status(login: LoginTransaction) -> str:
    return DECISIONS["approve"] if login.status == LoginStatus.AUTHENTICATED else DECISIONS["deny"]


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
