"""« Application e-CPS » on la mire.

1. The professional types their national id (pre-filled from ``login_hint``).
2. A push goes to every active device; the waiting page shows the binding code and the time
   left, and follows the request live (``poll``).
3. As soon as one device approves, the login succeeds with ``authMode: MOBILE``.

Without a browser (CIBA channel ``MOBILE``, PSC's default) the push goes out the same way and the
outcome is read from it.

Unknown, inactive and device-less national ids get one and the same message, so that the login
page does not tell who is a registered professional."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, bindparam

from psc_idp import lockout, rate_limits
from psc_idp.config import current_settings
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.login.flow import LOCKED_MESSAGE
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome
from psc_idp.means.base import Authenticator, AuthResult, HeadlessRefused
from psc_idp.means.ecps import pushes
from psc_idp.means.ecps.models import EcpsPush, PushStatus
from psc_idp.prepared_load import PreparedLoad
from psc_idp.timeutil import epoch, now, to_epoch

AUTH_MODE = "MOBILE"
NO_ECPS = "Aucune application e-CPS active n'est associée à cet identifiant."
MESSAGES = {
    "denied": "Vous avez refusé la demande sur votre application e-CPS.",
    "expired": "La demande n'a pas été validée à temps sur votre e-CPS. Vous pouvez réessayer.",
    "cancelled": "Demande annulée. Vous pouvez en envoyer une nouvelle.",
    "locked": "Votre application e-CPS est verrouillée après trop de codes PIN erronés. "
    "Réactivez-la pour vous connecter.",
    "too_many": "Trop de demandes attendent déjà une réponse sur votre application e-CPS. "
    "Répondez-y ou attendez qu'elles expirent, puis réessayez.",
}

#: A login's latest push of a kind (``login`` or ``ciba``): what its polls ask after.
_LATEST_PUSH = PreparedLoad(
    EcpsPush,
    lambda t: and_(t.c.subject_ref == bindparam("subject_ref"), t.c.kind == bindparam("kind")),
    order_by=lambda t: t.c.created_at.desc(),
)


class EcpsAuthenticator(Authenticator):
    id = "ecps"
    label = "Application e-CPS"
    description = "Validez la connexion sur votre téléphone avec votre code PIN."
    auth_modes = (AUTH_MODE,)
    channels = ("MOBILE",)
    default_channel = True
    audit_events = {
        "activation_started": "Activation d'une e-CPS demandée",
        "device_activated": "e-CPS activée",
        "device_revoked": "e-CPS révoquée",
        "device_renamed": "e-CPS renommée",
        "device_locked": "e-CPS verrouillée (codes PIN erronés)",
        "device_unlocked": "e-CPS déverrouillée par un administrateur",
        "wrong_pin": "Code PIN erroné",
        "push_sent": "Demande envoyée",
        "push_approved": "Demande approuvée",
        "push_denied": "Demande refusée",
    }

    # --- set-up ----------------------------------------------------------------------------
    def configured_for(self, national_id: str) -> bool:
        return pushes.reach(national_id) == pushes.Reach.REACHABLE

    def setup_url(self) -> str | None:
        """Activation with the card (a phone activates by contact codes on its own)."""
        return url_for("ecps_account.card_activation")

    # --- pages ---------------------------------------------------------------------------
    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        push = self._current_push(tx)
        waiting = (PushStatus.PENDING, PushStatus.APPROVED)
        if push is not None and pushes.state(push) in waiting and not error:
            return self._waiting_page(tx, push)
        return render_template(
            "ecps/identify.html",
            client_name=tx.client_name or tx.client_id,
            action_url=url_for("wallet.means", tx_id=tx.id, means_id=self.id),
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            csrf_token=tx.csrf_token,
            national_id=(push.national_id if push else "") or tx.login_hint,
            error=error,
            dev_mode=current_settings().dev_mode,
        ), (400 if error else 200)

    def _waiting_page(self, tx: LoginTransaction, push: EcpsPush) -> ResponseReturnValue:
        means_url = url_for("wallet.means", tx_id=tx.id, means_id=self.id)
        return render_template(
            "ecps/wait.html",
            client_name=tx.client_name or tx.client_id,
            binding_message=push.binding_message,
            expires_in=max(0, int((push.expires_at - now()).total_seconds())),
            action_url=means_url,
            status_url=url_for("wallet.means_status", tx_id=tx.id, means_id=self.id),
            csrf_token=tx.csrf_token,
            dev_mode=current_settings().dev_mode,
        )

    # --- form posts ----------------------------------------------------------------------
    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        step = form.get("step", "")
        if step == "identify":
            return self._send_push(tx, form.get("national_id", ""))
        push = self._current_push(tx)
        if push is None:
            return AuthResult.retry("Saisissez votre identifiant national.")
        if step == "cancel":
            pushes.cancel(push)
            return AuthResult.retry(MESSAGES["cancelled"])
        return self._outcome(tx, push)

    def _send_push(self, tx: LoginTransaction, typed: str) -> AuthResult:
        try:
            national_id = validate_national_id(typed)
        except InvalidNationalId as error:
            return AuthResult.retry(str(error))
        rate_limits.enforce("login_national_id", national_id)
        if lockout.is_locked(lockout.PROFESSIONAL, national_id):
            return AuthResult.retry(LOCKED_MESSAGE)
        practitioner = find_practitioner(national_id)
        if practitioner is None or not practitioner.active:
            return AuthResult.retry(NO_ECPS)
        reach = pushes.reach(national_id)
        if reach != pushes.Reach.REACHABLE:
            return AuthResult.retry(MESSAGES["locked"] if reach == pushes.Reach.LOCKED else NO_ECPS)
        try:
            # One live push per login: identifying again cancels this login's previous push.
            pushes.send_push(
                national_id,
                "login",
                subject_ref=tx.id,
                replace=True,
                client_id=tx.client_id,
                client_name=tx.client_name or tx.client_id,
                binding_message=pushes.binding_code(),
            )
        except pushes.TooManyPendingPushes:
            return AuthResult.retry(MESSAGES["too_many"])
        db.session.commit()
        return AuthResult.pending()

    def _outcome(self, tx: LoginTransaction, push: EcpsPush) -> AuthResult:
        pushes.settle(push)  # a form post: where a scenario's decision is written
        status = pushes.state(push)
        if status == PushStatus.APPROVED:
            return AuthResult.success(
                LoginOutcome(push.national_id, AUTH_MODE, self._acr(), epoch())
            )
        if status == PushStatus.DENIED:
            return AuthResult.failure(MESSAGES["denied"])
        if status in MESSAGES:
            return AuthResult.retry(MESSAGES[status])
        return AuthResult.pending()

    def poll(self, tx: LoginTransaction) -> dict[str, Any]:
        push = self._current_push(tx)
        if push is None:
            return {"status": "none"}
        return {"status": pushes.state(push), "expires_in": pushes.describe(push)["expires_in"]}

    # --- without a browser (CIBA) -----------------------------------------------------------
    def check_headless(self, national_id: str) -> None:
        reach = pushes.reach(national_id)
        if reach == pushes.Reach.LOCKED:
            raise HeadlessRefused("The user's e-CPS is locked")
        if reach == pushes.Reach.NONE:
            raise HeadlessRefused("The user has no active e-CPS: use channel=CARD")

    def start_headless(self, tx: LoginTransaction) -> str | None:
        try:
            push = pushes.send_push(
                tx.login_hint,
                "ciba",
                subject_ref=tx.id,
                client_id=tx.client_id,
                client_name=tx.client_name,
                binding_message=tx.params["binding_message"],
                lifetime=max(1, round((tx.expires_at - now()).total_seconds())),
            )
        except pushes.TooManyPendingPushes as error:
            raise HeadlessRefused(
                f"The user already has {error.cap} pending e-CPS requests: "
                "wait for an answer or for them to expire",
                status=403,
            ) from error
        return push.id

    def headless_result(self, tx: LoginTransaction) -> AuthResult:
        push = self._current_push(tx, kind="ciba")
        if push is None:
            return AuthResult.pending()
        pushes.settle(push)
        status = pushes.state(push)
        if status == PushStatus.APPROVED:
            decided = to_epoch(push.decided_at) if push.decided_at else epoch()
            outcome = LoginOutcome(push.national_id, AUTH_MODE, self._acr(), decided)
            return AuthResult.success(outcome)
        if status in (PushStatus.DENIED, PushStatus.CANCELLED):
            return AuthResult.failure(MESSAGES[status])
        return AuthResult.pending()  # expired too: the request's own expiry answers

    # --- helpers -------------------------------------------------------------------------
    def _acr(self) -> str:
        return current_settings().acr_by_auth_mode[AUTH_MODE]

    @staticmethod
    def _current_push(tx: LoginTransaction, kind: str = "login") -> EcpsPush | None:
        return _LATEST_PUSH.first(db.session, subject_ref=tx.id, kind=kind)
