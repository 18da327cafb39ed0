"""The test identity picker: choose a practitioner and the ``authMode`` to simulate.

Only registered in development mode (``PSC_DEV_MODE=1``); otherwise its URL does not exist."""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.directory.lookup import (
    count_practitioners,
    find_practitioner,
    search_practitioners,
    summary,
)
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome, acr_is_acceptable
from psc_idp.means.base import Authenticator, AuthResult
from psc_idp.timeutil import epoch

#: How many identities the picker lists at most; a search narrows the rest.
SHOWN = 50
MODE_LABELS = {
    "CARD": "Carte CPS",
    "MOBILE": "Application e-CPS",
    "FIDO": "Clé de sécurité FIDO",
}


class TestIdentityPicker(Authenticator):
    id = "dev"
    label = "Identité de test"
    description = "Mode développement : choisir un professionnel de l'annuaire de démonstration."
    auth_modes = ("CARD", "MOBILE", "FIDO")

    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        # Printable text only: PostgreSQL refuses a NUL in a query parameter.
        query = "".join(c for c in request.args.get("q", "")[:100] if c.isprintable())
        chosen = request.form.get("auth_mode") or self._default_mode(tx)
        practitioners = [summary(p) for p in search_practitioners(query, limit=SHOWN)]
        return render_template(
            "dev/picker.html",
            client_name=tx.client_name or tx.client_id,
            action_url=url_for("wallet.means", tx_id=tx.id, means_id=self.id),
            search_url=url_for("wallet.means", tx_id=tx.id, means_id=self.id),
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            csrf_token=tx.csrf_token,
            query=query,
            practitioners=practitioners,
            truncation=truncation_note(len(practitioners), query),
            login_hint=request.form.get("national_id_typed") or tx.login_hint,
            auth_modes=self._mode_choices(tx, chosen),
            error=error,
            dev_mode=True,
        ), (400 if error else 200)

    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        try:
            national_id = validate_national_id(self._chosen_id(tx, form))
        except InvalidNationalId as error:
            return AuthResult.retry(str(error))
        practitioner = find_practitioner(national_id)
        if practitioner is None:
            return AuthResult.retry("Aucun professionnel de l'annuaire n'a cet identifiant.")
        if not practitioner.active:
            return AuthResult.retry("Ce professionnel n'est plus actif : la connexion est refusée.")
        mode = form.get("auth_mode", "")
        acr = current_settings().acr_by_auth_mode.get(mode)
        if acr is None:
            return AuthResult.retry("Choisissez le moyen d'authentification à simuler.")
        if not acr_is_acceptable(tx, acr):
            # Levels are ranked by name (eidas1 < eidas2 < eidas3), as the protocol ranks them;
            # an essential acr may also refuse a stronger level than the one it names.
            if acr < min(tx.acceptable_acrs):
                return AuthResult.retry(
                    f"Le service exige un niveau plus élevé que {acr} : choisissez un autre moyen."
                )
            return AuthResult.retry(
                f"Le service n'accepte pas le niveau {acr} : choisissez un autre moyen."
            )
        return AuthResult.success(LoginOutcome(national_id, mode, acr, epoch()))

    @staticmethod
    def _chosen_id(tx: LoginTransaction, form: Mapping[str, str]) -> str:
        """A typed id wins unless it is just the pre-filled ``login_hint`` and a radio is set."""
        typed = (form.get("national_id_typed") or "").strip()
        picked = form.get("national_id") or ""
        if typed and (typed != tx.login_hint or not picked):
            return typed
        return picked or typed

    def _default_mode(self, tx: LoginTransaction) -> str:
        mapping = current_settings().acr_by_auth_mode
        usable = [m for m in self.auth_modes if acr_is_acceptable(tx, mapping.get(m, ""))]
        return "MOBILE" if "MOBILE" in usable else (usable[0] if usable else "")

    def _mode_choices(self, tx: LoginTransaction, chosen: str) -> list[dict]:
        mapping = current_settings().acr_by_auth_mode
        return [
            {
                "value": mode,
                "label": MODE_LABELS[mode],
                "acr": mapping.get(mode, ""),
                "allowed": acr_is_acceptable(tx, mapping.get(mode, "")),
                "checked": mode == chosen,
            }
            for mode in self.auth_modes
        ]


def french_number(value: int) -> str:
    """``2020`` → ``2 020`` (narrow no-break space, as French typography groups digits)."""
    return f"{value:,}".replace(",", "\u202f")


def truncation_note(shown: int, query: str) -> str:
    """« 50 sur 2 020 affichés — affinez la recherche » when the list is cut, else ``""``."""
    if shown < SHOWN:
        return ""
    total = count_practitioners(query)
    if total <= shown:
        return ""
    return f"{french_number(shown)} sur {french_number(total)} affichés — affinez la recherche"
