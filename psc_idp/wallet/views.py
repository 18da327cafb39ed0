"""Wallet pages: la mire lists the means that fit the request; each means runs its own steps.

The authorization endpoint itself is served here too (``/wallet/auth``) but belongs to the
protocol (blueprint "authorization"); this module only knows its resume endpoint by name."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.flow import accept_login, record_failed_attempt
from psc_idp.login.models import LoginStatus
from psc_idp.login.results import AuthStatus
from psc_idp.login.sessions import current_session, set_cookie
from psc_idp.login.transactions import (
    check_csrf,
    end_transaction,
    load_transaction,
)
from psc_idp.means.fi_tiers.authenticator import MEANS_ID as FI_TIERS
from psc_idp.means.fi_tiers.authenticator import hinted_provider
from psc_idp.means.registry import enabled_authenticators, get_authenticator
from psc_idp.wallet.pages import error_page

bp = Blueprint("wallet", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    settings = current_settings()
    return render_template(
        "wallet/home.html",
        issuer=settings.issuer,
        discovery_url=f"{settings.issuer}/.well-known/openid-configuration",
        jwks_url=f"{settings.issuer}/protocol/openid-connect/certs",
        dev_mode=settings.dev_mode,
    )


@bp.get("/login/<tx_id>")
def login_page(tx_id: str) -> ResponseReturnValue:
    tx = load_transaction(tx_id, request)
    if hinted_provider(tx) is not None:
        # Keycloak's identity provider redirector: the SP chose the establishment's provider
        # (an unknown alias is passed over, as Keycloak does, and la mire shows).
        return redirect(url_for("wallet.means", tx_id=tx.id, means_id=FI_TIERS))
    means = [
        {
            "id": a.id,
            "label": a.label,
            "description": a.description,
            "url": url_for("wallet.means", tx_id=tx.id, means_id=a.id),
            "available": a.applies_to(tx),
            "reason": "" if a.applies_to(tx) else "Niveau de sécurité insuffisant pour ce service.",
        }
        for a in enabled_authenticators()
    ]
    note = ""
    if tx.acceptable_acrs:
        note = f"Le service demande le niveau {tx.acceptable_acrs[0]} ou supérieur."
    return render_template(
        "wallet/login.html",
        client_name=tx.client_name or tx.client_id,
        means=means,
        login_hint=tx.login_hint,
        cancel_url=url_for("wallet.cancel", tx_id=tx.id),
        acr_note=note,
        csrf_token=tx.csrf_token,
        dev_mode=current_settings().dev_mode,
    )


@bp.route("/login/<tx_id>/<means_id>", methods=["GET", "POST"])
def means(tx_id: str, means_id: str) -> ResponseReturnValue:
    tx = load_transaction(tx_id, request)
    authenticator = get_authenticator(means_id)
    if authenticator is None or not authenticator.applies_to(tx):
        return error_page(
            "Moyen indisponible",
            "Ce moyen d'authentification n'est pas proposé pour cette connexion.",
            f"unknown or unsuitable means: {means_id[:40]}",
            status=404,
            back_url=url_for("wallet.login_page", tx_id=tx.id),
        )
    if request.method == "GET":
        return authenticator.start(tx)
    check_csrf(tx, request.form)
    result = authenticator.finish(tx, request.form)
    if result.status == AuthStatus.SUCCESS and result.outcome is not None:
        cookie = accept_login(tx, result.outcome, current_session(request))
        db.session.commit()
        response = redirect(_after_login(tx))
        set_cookie(response, cookie)
        return response
    if result.status == AuthStatus.PENDING:
        # Post/redirect/get: reloading the waiting page must not post again.
        return redirect(
            url_for("wallet.means", tx_id=tx.id, means_id=means_id, **(result.params or {}))
        )
    abandoned = (
        record_failed_attempt(tx, _means_label(authenticator), result.message)
        or result.status == AuthStatus.FAILURE
    )
    if abandoned:
        end_transaction(tx, LoginStatus.FAILED)
        db.session.commit()
        return redirect(_after_abandon(tx))
    db.session.commit()
    return authenticator.start(tx, error=result.message)


@bp.get("/login/<tx_id>/<means_id>/status")
def means_status(tx_id: str, means_id: str) -> ResponseReturnValue:
    """Where a waiting means stands (JSON, polled by its waiting page)."""
    tx = load_transaction(tx_id, request)
    authenticator = get_authenticator(means_id)
    if authenticator is None:
        return jsonify(status="none"), 404
    response = jsonify(authenticator.poll(tx))
    response.headers["Cache-Control"] = "no-store"
    return response


def _means_label(authenticator) -> str:
    """The means as tokens name it (``authMode``) when it has one, else its id."""
    modes = authenticator.auth_modes
    return modes[0] if len(modes) == 1 else authenticator.id


def _after_login(tx) -> str:
    """Back to the authorization request, or to the wallet page the login was for."""
    if tx.return_to:
        end_transaction(tx, LoginStatus.DONE)
        db.session.commit()
        return tx.return_to
    return url_for("authorization.resume", tx_id=tx.id)


def _after_abandon(tx) -> str:
    """Back to the service with ``access_denied``, or to the wallet home for a wallet login."""
    return url_for("wallet.home") if tx.return_to else url_for("authorization.resume", tx_id=tx.id)


@bp.get("/login/<tx_id>/cancel")
def cancel(tx_id: str) -> ResponseReturnValue:
    # A plain link: the transaction id is secret and bound to this browser.
    tx = load_transaction(tx_id, request)
    end_transaction(tx, LoginStatus.CANCELLED)
    db.session.commit()
    return redirect(_after_abandon(tx))
