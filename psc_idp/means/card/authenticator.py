"""« Carte CPS » on la mire.

The card's certificate reaches psc-idp through its own HTTPS listener or a trusted reverse proxy
(``psc_idp.tls.presented``). The first visit shows who the card says (or why it is refused);
posting the page logs in with ``authMode: CARD``. A page opened without TLS sends the browser to
the origin that asks for the certificate.

Without a browser (CIBA channel ``CARD``) nothing is sent: the request waits until the card
holder decides, with a JWS signed by the card (``decision``) or on the page of pending requests
reached with the card (``pages``); the decision is recorded at once (``login.headless``)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome
from psc_idp.means.base import Authenticator, AuthResult
from psc_idp.means.card.certificate import on_certificate_origin, presented_card
from psc_idp.pki import VerifiedCertificate
from psc_idp.timeutil import epoch

AUTH_MODE = "CARD"
CHANNEL = "CARD"
NO_CERTIFICATE = (
    "Aucun certificat de carte CPS n'a été présenté. Vérifiez que la carte est insérée et que "
    "le lecteur est reconnu (ou que le certificat de test est importé dans le navigateur), "
    "puis réessayez."
)


class CardAuthenticator(Authenticator):
    id = "card"
    label = "Carte CPS"
    description = "Insérez votre carte dans le lecteur : le navigateur présente son certificat."
    auth_modes = (AUTH_MODE,)
    #: CIBA requests the professional decides with the card (``decision``, ``pages``).
    channels = (CHANNEL,)

    def is_enabled(self) -> bool:
        # No origin asks for a certificate (no TLS listener, no TLS base): nothing to offer.
        return current_settings().mtls_available

    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        if not self._on_certificate_origin():
            return self._page(tx, "go", card_url=self._card_url(tx))
        verified, problem = self._verified()
        if verified is None:
            return self._page(tx, "refused", message=error or problem, status=400)
        practitioner = find_practitioner(verified.national_id or "")
        return self._page(
            tx,
            "confirm",
            message=error,
            name=display_name(practitioner) if practitioner else "",
            national_id=verified.national_id,
            issuer=verified.issuer_dn,
        )

    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        verified, problem = self._verified()
        if verified is None or not verified.national_id:
            return AuthResult.retry(problem)
        acr = current_settings().acr_by_auth_mode[AUTH_MODE]
        return AuthResult.success(LoginOutcome(verified.national_id, AUTH_MODE, acr, epoch()))

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def _verified() -> tuple[VerifiedCertificate | None, str]:
        return presented_card(NO_CERTIFICATE)

    @staticmethod
    def _on_certificate_origin() -> bool:
        return on_certificate_origin()

    def _card_url(self, tx: LoginTransaction) -> str:
        path = url_for("wallet.means", tx_id=tx.id, means_id=self.id)
        return f"{current_settings().mtls_base}{path}"

    def _page(
        self, tx: LoginTransaction, state: str, status: int = 200, **context
    ) -> ResponseReturnValue:
        return render_template(
            "card/login.html",
            state=state,
            client_name=tx.client_name or tx.client_id,
            action_url=url_for("wallet.means", tx_id=tx.id, means_id=self.id),
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            csrf_token=tx.csrf_token,
            dev_mode=current_settings().dev_mode,
            **context,
        ), status
