"""Errors outside any view's own handling: JSON on protocol paths and JSON APIs
(``psc_idp.http.errors``), a French page elsewhere; an unreachable database is a 503."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.http.errors import json_error, wants_json
from psc_idp.http.guard import RefusedInput
from psc_idp.http.unavailable import RETRY_AFTER, is_outage, refuses_writes
from psc_idp.login.transactions import TransactionError
from psc_idp.rate_limits import TooManyRequests
from psc_idp.wallet.pages import error_page

log = logging.getLogger(__name__)

FRENCH = {
    400: ("Requête invalide", "La demande contient des données qui ne peuvent pas être acceptées."),
    404: ("Page introuvable", "L'adresse demandée n'existe pas."),
    405: ("Méthode non autorisée", "Cette page ne peut pas être appelée ainsi."),
    413: ("Requête trop volumineuse", "La demande envoyée est trop volumineuse."),
}


def _keep_allow(error: HTTPException, response: Response) -> Response:
    # RFC 9110 §15.5.6: a 405 must name the methods the resource accepts.
    for name, value in error.get_headers():
        if name == "Allow":
            response.headers[name] = value
    return response


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be the thing that failed; the answer matters more
        log.debug("rollback failed", exc_info=True)


def register_error_handlers(app: Flask, settings: Settings) -> None:
    @app.errorhandler(TransactionError)
    def transaction_error(error: TransactionError) -> Response:
        _rollback()
        return error_page("Connexion impossible", error.message, error.reason, status=400)

    @app.errorhandler(TooManyRequests)
    def too_many_requests(error: TooManyRequests) -> Response:
        _rollback()
        if wants_json() or not error.message:
            response = json_error(429, "too_many_requests", error.description)
            response.headers["Cache-Control"] = "no-store"
        else:
            response = error_page(
                "Trop de demandes", error.message, "429 Too Many Requests", status=429
            )
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    # Registered for its code (400), so it wins over the protocol blueprint's JSON handler:
    # the browser endpoints under the issuer (authorize, logout) answer a page.
    @app.errorhandler(RefusedInput)
    def refused_input(error: RefusedInput) -> Response:
        if wants_json():
            return json_error(400, "invalid_request", error.description or "Invalid request")
        title, message = FRENCH[400]
        return error_page(title, message, error.description or "", status=400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        _rollback()
        status = error.code or 500
        if wants_json():
            response = json_error(status, "invalid_request", error.name)
        else:
            title, message = FRENCH.get(status, ("Erreur", "La demande n'a pas pu être traitée."))
            response = error_page(title, message, f"{status} {error.name}", status=status)
        return _keep_allow(error, response)

    # Flask's last resort: an exception that escaped the handlers (raised in a hook after the
    # view, or by a handler itself) becomes a 500 carrying it. Registered by its code, this
    # handler wins over the blueprints' HTTPException handlers: an outage there is a 503 too.
    @app.errorhandler(InternalServerError)
    def last_resort(error: InternalServerError) -> Response:
        original = error.original_exception
        if original is not None and is_outage(original):
            _rollback()
            log.warning("database unavailable on %s %s: %s", request.method, request.path, original)
            return _unavailable(writes_refused=refuses_writes(original))
        return unexpected(original or error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        _rollback()
        if refuses_writes(error):
            log.error("database refuses writes on %s %s: %s", request.method, request.path, error)
            return _unavailable(writes_refused=True)
        if is_outage(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
            return _unavailable()
        # Logged with its traceback; the user gets a clear answer, never a stack trace.
        log.exception("unexpected error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "server_error", "Unexpected server error")
        return error_page(
            "Erreur du serveur",
            "Une erreur inattendue est survenue. Réessayez dans un instant.",
            InternalServerError.description,
            status=500,
        )


def _unavailable(writes_refused: bool = False) -> Response:
    if wants_json():
        # RFC 6749 §4.1.2.1 names this case temporarily_unavailable.
        description = "Service temporarily unavailable"
        if writes_refused:
            description += ": the database refuses writes (disk full or read-only)"
        response = json_error(503, "temporarily_unavailable", description)
    else:
        detail = "Le service ne peut pas répondre pour le moment. Réessayez dans quelques instants."
        if writes_refused:
            detail = (
                "Le service ne peut rien enregistrer pour le moment (espace disque plein ou "
                "base de données en lecture seule). Réessayez dans quelques instants."
            )
        response = error_page(
            "Service momentanément indisponible", detail, "503 Service Unavailable", status=503
        )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response
