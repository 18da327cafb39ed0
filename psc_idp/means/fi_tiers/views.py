"""The callback from an establishment's provider: the state taken once, the code exchanged, the
ID token checked, then either the paired professional logs in or the pairing page follows."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.atomic import claim
from psc_idp.extensions import db
from psc_idp.login.flow import accept_login
from psc_idp.login.models import LoginStatus
from psc_idp.login.sessions import current_session, set_cookie
from psc_idp.login.transactions import (
    LoginOutcome,
    TransactionError,
    end_transaction,
    load_transaction,
)
from psc_idp.means.fi_tiers import logout, upstream
from psc_idp.means.fi_tiers.authenticator import MEANS_ID, callback_url
from psc_idp.means.fi_tiers.models import BrokerStatus, FiTiersLogin
from psc_idp.means.fi_tiers.pairing import current_pairing
from psc_idp.means.fi_tiers.providers import find_provider
from psc_idp.timeutil import epoch, now

bp = Blueprint("fi_tiers", __name__)

USED_STATE = (
    "Cette réponse du fournisseur d'identité a déjà été utilisée ou a expiré. "
    "Retournez sur le service pour recommencer."
)


#: An ``amr`` value repeated in our tokens: a short token (RFC 8176 names, a vendor's own).
METHOD = re.compile(r"[A-Za-z0-9_.:-]{1,32}")


def method_names(amr: Any) -> list[str]:
    """The upstream ``amr`` values fit to be matched and repeated (at most 8, each a word)."""
    if not isinstance(amr, list):
        return []
    return [m for m in amr if isinstance(m, str) and METHOD.fullmatch(m)][:8]


@bp.get("/fi-tiers/callback")
def callback() -> ResponseReturnValue:
    state = request.args.get("state", "")[:64]
    brokered = db.session.get(FiTiersLogin, state) if state else None
    if brokered is None:
        raise TransactionError(USED_STATE, "unknown state")
    tx = load_transaction(brokered.tx_id, request)  # the browser that left is the one back
    # Single use: the first callback takes the state, any other (replay, race) is refused.
    taken = brokered.expires_at > now() and claim(
        FiTiersLogin, brokered.id, BrokerStatus.SENT, BrokerStatus.RETURNED
    )
    db.session.commit()
    if not taken:
        raise TransactionError(USED_STATE, "state already used or expired")
    provider = find_provider(brokered.alias)
    if provider is None:
        raise TransactionError("Ce fournisseur d'identité n'est plus configuré.", "provider gone")
    returned_iss = request.args.get("iss")
    if returned_iss is not None and returned_iss not in provider.allowed_issuers:
        # RFC 9207: the response names its issuer; another one is a mix-up.
        raise TransactionError(upstream.REFUSED, f"authorization response iss: {returned_iss[:80]}")
    if request.args.get("error"):
        raise TransactionError(
            "Votre établissement n'a pas authentifié la connexion "
            f"({request.args['error'][:60]}). Retournez sur le service pour recommencer.",
            f"upstream error: {request.args['error'][:60]}",
        )
    try:
        token = upstream.exchange_code(
            provider, callback_url(), request.args.get("code", ""), brokered.code_verifier
        )
        claims = upstream.verified_claims(provider, token["id_token"], brokered.nonce)
    except upstream.UpstreamError as problem:
        raise TransactionError(problem.message, problem.reason) from problem
    amr = method_names(claims.get("amr"))
    acr = provider.acr_for(amr)
    if acr is None:
        raise TransactionError(
            "Votre établissement vous a authentifié d'une façon que ce service n'accepte pas "
            "(deux facteurs sont exigés).",
            f"amr not accepted: {amr}",
        )
    local_id = claims[provider.user_id_claim]
    upstream_session = logout.session_upstream(provider, token["id_token"])
    brokered.status, brokered.local_id, brokered.amr, brokered.acr = (
        BrokerStatus.VERIFIED,
        local_id,
        amr,
        acr,
    )
    pairing = current_pairing(provider.alias, local_id)
    if pairing is None:
        if upstream_session is not None:  # for the session the pairing will open
            brokered.id_token_sealed = logout.seal_id_token(brokered.id, token["id_token"])
        db.session.commit()
        return redirect(url_for("wallet.means", tx_id=tx.id, means_id=MEANS_ID))
    brokered.status = BrokerStatus.DONE
    outcome = LoginOutcome(
        pairing.national_id, provider.auth_mode, acr, epoch(), " ".join(amr), upstream_session
    )
    cookie = accept_login(tx, outcome, current_session(request))
    db.session.commit()
    if tx.return_to:
        end_transaction(tx, LoginStatus.DONE)
        db.session.commit()
        response = redirect(tx.return_to)
    else:
        response = redirect(url_for("authorization.resume", tx_id=tx.id))
    set_cookie(response, cookie)
    return response
