"""The French pages of the browser-facing protocol endpoints (authorize, resume, logout): the
protocol answers values (``psc_idp.protocol.pages``), this module renders them."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template

from psc_idp.config import current_settings
from psc_idp.protocol import pages
from psc_idp.wallet.pages import error_page


def render(page: pages.BrowserPage) -> Response:
    dev_mode = current_settings().dev_mode
    match page:
        case pages.InvalidAuthorizationRequest():
            return error_page(
                "Demande de connexion invalide",
                "Le service qui vous a redirigé ici a envoyé une demande incorrecte. "
                "Retournez sur le service et réessayez ; si le problème persiste, contactez-le.",
                page.details,
                status=page.status,
                redirect_check=page.redirect_check,
            )
        case pages.UnencryptableResponse():
            return error_page(
                "Réponse impossible à transmettre",
                "Le service qui vous a redirigé ici demande une réponse chiffrée, mais sa clé de "
                "chiffrement est introuvable ou inutilisable. Contactez-le ; vous pourrez "
                "réessayer une fois sa configuration corrigée.",
                page.details,
                status=page.status,
            )
        case pages.AlreadyResumed():
            return error_page(
                "Connexion déjà traitée", "Retournez sur le service.", page.details, page.status
            )
        case pages.LogoutRefused():
            return error_page(
                "Déconnexion impossible",
                "La demande de déconnexion envoyée par le service est incorrecte.",
                page.details,
                status=page.status,
            )
        case pages.LogoutConfirmation():
            html = render_template(
                "wallet/logout_confirm.html",
                action_url=page.action_url,
                csrf_token=page.csrf_token,
                hidden=page.hidden,
                cancel_url=None,
                dev_mode=dev_mode,
            )
        case pages.LoggedOut():
            html = render_template(
                "wallet/logged_out.html",
                dev_mode=dev_mode,
                frames=page.frames,
                continue_url=page.continue_url,
            )
        case pages.FormPost():
            html = render_template("wallet/form_post.html", action=page.action, fields=page.fields)
        case _:
            raise TypeError(f"no page for {type(page).__name__}")
    return make_response(html, page.status)


def init_app(app: Flask) -> None:
    pages.register_renderer(app, render)
