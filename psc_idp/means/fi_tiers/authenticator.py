"""« Établissement (FI Tiers) » on la mire.

1. The browser goes to the establishment's provider (the SP's ``kc_idp_hint``, the button on
   la mire, or the only provider), with state, nonce and PKCE (``upstream``).
2. The callback (``views``) checks the ID token; a paired local account logs in at once.
3. A local account not yet paired: the professional types their national id and approves on
   their e-CPS (the e-CPS means's own push), or logs in with their CPS card (the card means's
   own check: the card's national id is the one paired), as the provider's ``pairing.means``
   allow; the pairing is recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from psc_idp import audit
from psc_idp.atomic import claim
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome, TransactionError
from psc_idp.means.base import Authenticator, AuthResult, AuthStatus
from psc_idp.means.card.certificate import on_certificate_origin, presented_card
from psc_idp.means.ecps.authenticator import EcpsAuthenticator
from psc_idp.means.fi_tiers import logout, upstream
from psc_idp.means.fi_tiers.models import BrokerStatus, FiTiersLogin
from psc_idp.means.fi_tiers.pairing import record_pairing
from psc_idp.means.fi_tiers.providers import Provider, all_providers, find_provider
from psc_idp.timeutil import epoch, now

MEANS_ID = "fi_tiers"
#: How long the browser may stay at the provider (and then pair) before the state is dead.
BROKER_LIFETIME = timedelta(minutes=10)
NO_CARD = (
    "Aucun certificat de carte CPS n'a été présenté. Vérifiez que la carte est insérée et que "
    "le lecteur est reconnu, puis réessayez."
)
NOT_OFFERED = "Ce moyen d'association n'est pas proposé pour votre établissement."
UNKNOWN_PROVIDER = (
    "Ce fournisseur d'identité n'est pas configuré. Choisissez un autre moyen de connexion."
)


def callback_url() -> str:
    return f"{current_settings().base_url}{url_for('fi_tiers.callback')}"


def verified_login(tx: LoginTransaction) -> FiTiersLogin | None:
    """This login's brokered identity, once the callback checked it (pairing pending)."""
    query = select(FiTiersLogin).where(
        FiTiersLogin.tx_id == tx.id, FiTiersLogin.status == BrokerStatus.VERIFIED
    )
    return db.session.scalars(query.order_by(FiTiersLogin.created_at.desc()).limit(1)).first()


def hinted_provider(tx: LoginTransaction) -> Provider | None:
    """The provider the service named with ``kc_idp_hint``, until the browser has been sent
    there once: coming back to la mire (« Choisir un autre moyen ») then shows the other means
    instead of leaving for the provider again."""
    provider = find_provider(str(tx.params.get("kc_idp_hint") or ""))
    if provider is None:
        return None
    sent = db.session.scalars(select(FiTiersLogin.id).where(FiTiersLogin.tx_id == tx.id).limit(1))
    return None if sent.first() else provider


class FiTiersAuthenticator(Authenticator):
    id = MEANS_ID
    label = "Compte de mon établissement"
    description = "Connectez-vous avec le compte de votre établissement (FI Tiers)."
    auth_modes = ("FI_TIERS",)
    audit_events = {
        "fi_tiers_paired": "Compte d'établissement associé",
        "fi_tiers_unpaired": "Association d'un compte d'établissement supprimée",
    }

    def is_enabled(self) -> bool:
        return bool(all_providers())

    def acrs(self) -> set[str]:
        return {a.acr for p in all_providers() for a in p.accepted_amr}

    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        brokered = verified_login(tx)
        if brokered is not None:
            return self._pairing_page(tx, brokered, error)
        chosen = request.args.get("idp", "")
        if chosen:
            provider = find_provider(chosen)
            if provider is None:
                raise TransactionError(UNKNOWN_PROVIDER, f"unknown provider: {chosen[:64]}")
            return self._send(tx, provider)
        hinted = find_provider(str(tx.params.get("kc_idp_hint") or ""))
        if hinted is not None:
            return self._send(tx, hinted)
        providers = all_providers()
        if len(providers) == 1:
            return self._send(tx, providers[0])
        return render_template(
            "fi_tiers/choose.html",
            client_name=tx.client_name or tx.client_id,
            providers=[
                {
                    "name": p.name,
                    "url": url_for("wallet.means", tx_id=tx.id, means_id=self.id, idp=p.alias),
                }
                for p in providers
            ],
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            dev_mode=current_settings().dev_mode,
        )

    def _send(self, tx: LoginTransaction, provider: Provider) -> ResponseReturnValue:
        try:
            sent = upstream.authorization_url(provider, callback_url())
        except upstream.UpstreamError as problem:
            raise TransactionError(problem.message, problem.reason) from problem
        db.session.add(
            FiTiersLogin(
                id=sent.state,
                tx_id=tx.id,
                alias=provider.alias,
                nonce=sent.nonce,
                code_verifier=sent.code_verifier,
                expires_at=min(tx.expires_at, now() + BROKER_LIFETIME),
            )
        )
        db.session.commit()
        return redirect(sent.url)

    # --- pairing -------------------------------------------------------------------------
    def _pairing_page(
        self, tx: LoginTransaction, brokered: FiTiersLogin, error: str
    ) -> ResponseReturnValue:
        provider = find_provider(brokered.alias)
        means = _pairing_means(provider.pairing_means if provider else ())
        push = EcpsAuthenticator._current_push(tx) if "MOBILE" in means else None
        waiting = push is not None and self._ecps().poll(tx)["status"] in ("pending", "approved")
        return render_template(
            "fi_tiers/pair.html",
            client_name=tx.client_name or tx.client_id,
            provider_name=provider.name if provider else brokered.alias,
            local_id=brokered.local_id,
            by_ecps="MOBILE" in means,
            waiting=waiting and not error,
            binding_message=push.binding_message if push else "",
            national_id=(push.national_id if push else "") or tx.login_hint,
            card=self._card_context(tx) if "CARD" in means else None,
            action_url=url_for("wallet.means", tx_id=tx.id, means_id=self.id),
            back_url=url_for("wallet.login_page", tx_id=tx.id),
            csrf_token=tx.csrf_token,
            error=error,
            dev_mode=current_settings().dev_mode,
        ), (400 if error else 200)

    def _card_context(self, tx: LoginTransaction) -> dict[str, str]:
        """The card part of the pairing page: where the certificate is asked, or what the
        presented card says (its national id, or why it is refused)."""
        if not on_certificate_origin():
            path = url_for("wallet.means", tx_id=tx.id, means_id=self.id)
            return {"url": f"{current_settings().mtls_base}{path}"}
        verified, problem = presented_card(NO_CARD)
        if verified is None or not verified.national_id:
            return {"problem": problem or NO_CARD}
        return {"national_id": verified.national_id}

    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        brokered = verified_login(tx)
        provider = find_provider(brokered.alias) if brokered else None
        if brokered is None or provider is None:
            return AuthResult.failure(
                "Reconnectez-vous d'abord avec le compte de votre établissement."
            )
        means = _pairing_means(provider.pairing_means)
        if form.get("step") == "card":
            if "CARD" not in means:
                return AuthResult.retry(NOT_OFFERED)
            verified, problem = presented_card(NO_CARD)
            if verified is None or not verified.national_id:
                return AuthResult.retry(problem or NO_CARD)
            return self._paired(brokered, provider, verified.national_id, "CARD", epoch())
        if "MOBILE" not in means:
            return AuthResult.retry(NOT_OFFERED)
        # The approval is the e-CPS means's own: same push, PIN, lockout and messages.
        result = self._ecps().finish(tx, form)
        if result.status != AuthStatus.SUCCESS or result.outcome is None:
            return result
        outcome = result.outcome
        return self._paired(brokered, provider, outcome.national_id, "MOBILE", outcome.auth_time)

    @staticmethod
    def _paired(
        brokered: FiTiersLogin, provider: Provider, national_id: str, by: str, auth_time: int
    ) -> AuthResult:
        if not claim(FiTiersLogin, brokered.id, BrokerStatus.VERIFIED, BrokerStatus.DONE):
            return AuthResult.failure("Cette association a déjà été traitée.")
        audit.record("fi_tiers_paired", national_id, alias=provider.alias, by=by)
        record_pairing(
            provider.alias, brokered.local_id or "", national_id, by, provider.pairing_lifetime
        )
        id_token = logout.unseal_id_token(brokered.id, brokered.id_token_sealed)
        brokered.id_token_sealed = None  # the SSO session keeps it from now on
        return AuthResult.success(
            LoginOutcome(
                national_id,
                provider.auth_mode,
                brokered.acr or "",
                auth_time,
                " ".join(brokered.amr or []),
                logout.session_upstream(provider, id_token),
            )
        )

    def poll(self, tx: LoginTransaction) -> dict[str, Any]:
        return self._ecps().poll(tx)

    @staticmethod
    def _ecps() -> EcpsAuthenticator:
        return EcpsAuthenticator()


def _pairing_means(configured: tuple[str, ...]) -> tuple[str, ...]:
    """The provider's pairing means that this instance can offer: the card only where an
    origin asks for a certificate (mutual TLS)."""
    return tuple(m for m in configured if m != "CARD" or current_settings().mtls_available)
