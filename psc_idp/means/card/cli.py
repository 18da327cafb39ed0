"""``psc-idp cps approve``: the card holder's side of a CARD-channel CIBA request. Added to the
``cps`` group of the shared PKI commands (card certificates) by ``psc_idp.cli``."""

from __future__ import annotations

import time
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask.cli import with_appcontext

from psc_idp.cli.output import emit, fail
from psc_idp.extensions import db
from psc_idp.means.card.decision import (
    CardDecisionRefused,
    PendingRequest,
    decide_with_card,
    pending_requests,
    sign_decision,
)
from psc_idp.pki import CertificateRejected, verify_client_certificate


@click.command("approve")
@click.option("--cert", "cert_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--request", "request_id", help="Demande CIBA précise (sinon la plus récente).")
@click.option("--deny", is_flag=True, help="Refuser au lieu d'approuver.")
@click.option("--wait", default=0.0, type=float, help="Attendre une demande (secondes).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def cps_approve(cert_path, key_path, request_id, deny, wait, as_json) -> None:
    """Approuver (ou refuser) une demande CIBA « carte » avec la carte CPS, comme CPS-Gestion :
    la décision est signée avec la clé de la carte."""
    emit(approve_with_card(cert_path, key_path, request_id, deny, wait), as_json)


def approve_with_card(
    cert_path: str, key_path: str, request_id: str | None, deny: bool, wait: float
) -> dict:
    certificate = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    key = load_pem_private_key(Path(key_path).read_bytes(), None)
    try:
        national_id = verify_client_certificate(certificate, purpose="card").national_id
    except CertificateRejected as rejection:
        fail(rejection.message_fr)
    request = _wait_for_request(national_id, request_id, wait)
    token = sign_decision(request, "deny" if deny else "approve", certificate, key)
    try:
        request, status = decide_with_card(token)
    except CardDecisionRefused as refusal:
        fail(f"{refusal} ({refusal.reason})")
    return {"request": request.id, "client_id": request.client_id, "status": status}


def _wait_for_request(national_id: str, request_id: str | None, wait: float) -> PendingRequest:
    deadline = time.monotonic() + wait
    while True:
        found = [r for r in pending_requests(national_id) if request_id in (None, r.id)]
        if found:
            return found[-1]
        if time.monotonic() >= deadline:
            fail(f"aucune demande « carte » en attente pour {national_id}")
        db.session.remove()
        time.sleep(0.25)
