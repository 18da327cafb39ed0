"""Errors outside any view's own handling: JSON on protocol paths, a French page elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.login.transactions import TransactionError
from psc_idp.wallet.pages import error_page

log = logging.getLogger(__name__)

FRENCH = {
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


def register_error_handlers(app: Flask, settings: Settings) -> None:
    protocol_prefix = urlsplit(settings.issuer).path

    def wants_json() -> bool:
        return request.path.startswith(protocol_prefix)

    @app.errorhandler(TransactionError)
    def transaction_error(error: TransactionError) -> Response:
        db.session.rollback()
        return error_page("Connexion impossible", error.message, error.reason, status=400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        db.session.rollback()
        status = error.code or 500
        if wants_json():
            response = jsonify(error="invalid_request", error_description=error.name)
            response.status_code = status
        else:
            title, message = FRENCH.get(status, ("Erreur", "La demande n'a pas pu être traitée."))
            response = error_page(title, message, f"{status} {error.name}", status=status)
        return _keep_allow(error, response)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # Logged with its traceback; the user gets a clear answer, never a stack trace.
        log.exception("unexpected error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_json():
            response = jsonify(error="server_error", error_description="Unexpected server error")
            response.status_code = 500
            return response
        return error_page(
            "Erreur du serveur",
            "Une erreur inattendue est survenue. Réessayez dans un instant.",
            InternalServerError.description,
            status=500,
        )
