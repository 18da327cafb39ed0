"""« Clé de sécurité FIDO » on la mire: with a discoverable credential (nothing to type) or
with the national id first (the professional's keys in ``allowCredentials``). User verification
is required; ``authMode: FIDO``, ``acr: eidas2`` (configurable)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from psc_idp import lockout, rate_limits
from psc_idp.config import current_settings
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.login.flow import LOCKED_MESSAGE
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome
from psc_idp.means.base import Authenticator, AuthResult
from psc_idp.means.fido.ceremonies import (
    CeremonyFailed,
    begin_authentication,
    complete_authentication,
)
from psc_idp.means.fido.models import FidoCredential
from psc_idp.timeutil import epoch

AUTH_MODE = "FIDO"


class FidoAuthenticator(Authenticator):
    id = "fido"
    label = "Clé de sécurité FIDO"
    description = "Branchez ou approchez votre clé, puis confirmez avec son code ou son capteur."
    auth_modes = (AUTH_MODE,)
    audit_events = {
        "key_enrolled": "Clé de sécurité enregistrée",
        "key_revoked": "Clé de sécurité révoquée",
    }

    # --- set-up: enrolment in the account space, approved on the e-CPS (``enrolment``) --------
    def configured_for(self, national_id: str) -> bool:
        query = select(FidoCredential.id).where(
            FidoCredential.national_id == national_id, FidoCredential.revoked_at.is_(None)
        )
        return db.session.scalar(query.limit(1)) is not None

    def setup_url(self) -> str | None:
        return url_for("keys.add")

    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        national_id = request.args.get("nid", "")[:64] or None
        try:
            national_id = validate_national_id(national_id) if national_id else None
        except InvalidNationalId:
            national_id = None
        ceremony_id, options = begin_authentication(tx.id, national_id)
        # The national id stays in the action: a refused answer shows this same page again.
        keep = {"nid": national_id} if national_id else {}
        action = url_for("wallet.means", tx_id=tx.id, means_id=self.id, **keep)
        return render_template(
            "fido/login.html",
            client_name=tx.client_name or tx.client_id,
            action_url=action,
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            csrf_token=tx.csrf_token,
            ceremony_id=ceremony_id,
            options_json=json.dumps(options),
            national_id=national_id or "",
            login_hint=tx.login_hint,
            error=error,
            dev_mode=current_settings().dev_mode,
        ), (400 if error else 200)

    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        if form.get("step") == "identify":
            return self._identify(form.get("national_id", ""))
        try:
            response = json.loads(form.get("response") or "null")
            if not isinstance(response, dict):
                raise ValueError("no response")
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            return AuthResult.retry("La clé n'a pas répondu. Réessayez.")
        try:
            key = complete_authentication(form.get("ceremony", ""), tx.id, response)
        except CeremonyFailed as failure:
            if failure.national_id:
                db.session.commit()  # the challenge stays spent; then the failure is counted
                lockout.fail(lockout.PROFESSIONAL, failure.national_id, "fido")
            return AuthResult.retry(str(failure))
        acr = current_settings().acr_by_auth_mode[AUTH_MODE]
        return AuthResult.success(LoginOutcome(key.national_id, AUTH_MODE, acr, epoch()))

    @staticmethod
    def _identify(typed: str) -> AuthResult:
        try:
            national_id = validate_national_id(typed)
        except InvalidNationalId as error:
            return AuthResult.retry(str(error))
        rate_limits.enforce("login_national_id", national_id)
        if lockout.is_locked(lockout.PROFESSIONAL, national_id):
            return AuthResult.retry(LOCKED_MESSAGE)
        # The page is shown again with this professional's keys (see start, ``nid``).
        return AuthResult.pending(nid=national_id)
