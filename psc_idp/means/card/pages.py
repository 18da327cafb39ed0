"""« Demandes en attente » (``/wallet/ciba``): the professional, with their CPS card in the
reader, sees the CARD-channel CIBA requests of heavy clients and approves or denies them. The
TLS client authentication with the card is the proof of possession; the decision is recorded
as the outcome of the request's login (``decision.record_decision``)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import bound_token, same_token
from psc_idp.login.headless import is_headless
from psc_idp.login.models import LoginTransaction
from psc_idp.means.card.authenticator import CHANNEL
from psc_idp.means.card.certificate import presented_card
from psc_idp.means.card.decision import is_waiting, pending_requests, record_decision
from psc_idp.pki import VerifiedCertificate

bp = Blueprint("ciba_card", __name__)


def _card() -> tuple[VerifiedCertificate | None, str]:
    return presented_card("Insérez votre carte CPS : cette page s'ouvre avec la carte.")


def _csrf(card: VerifiedCertificate) -> str:
    return bound_token(card.sha256_thumbprint, "ciba-card")


@bp.get("/ciba")
def pending() -> ResponseReturnValue:
    card, problem = _card()
    settings = current_settings()
    if card is None:
        secure = ""  # no origin asks for a certificate: no link to offer
        if settings.mtls_available:
            secure = f"{settings.mtls_base}{url_for('ciba_card.pending')}"
        return render_template(
            "card/ciba.html", problem=problem, secure_url=secure, dev_mode=settings.dev_mode
        ), 400
    requests = pending_requests(card.national_id)
    page = render_template(
        "card/ciba.html",
        national_id=card.national_id,
        requests=[(r, r.client_name) for r in requests],
        csrf_token=_csrf(card),
        dev_mode=settings.dev_mode,
    )
    db.session.commit()
    return page


@bp.post("/ciba/<request_id>")
def decide(request_id: str) -> ResponseReturnValue:
    card, _ = _card()
    if card is None:
        abort(403)
    if not same_token(request.form.get("csrf_token"), _csrf(card)):
        abort(400)
    login = db.session.get(LoginTransaction, request_id[:64])
    if login is None or not is_headless(login, CHANNEL) or login.login_hint != card.national_id:
        abort(404)
    if is_waiting(login):
        record_decision(login, approve=request.form.get("decision") == "approve")
    db.session.commit()
    return redirect(url_for("ciba_card.pending"))
