"""Recording a successful login: checks that hold whatever the means, then the SSO session."""

from __future__ import annotations

from psc_idp.directory.lookup import find_practitioner
from psc_idp.login.models import LoginTransaction, SsoSession
from psc_idp.login.sessions import end_session, open_session
from psc_idp.login.transactions import (
    LoginOutcome,
    TransactionError,
    acr_is_acceptable,
    mark_authenticated,
)


def accept_login(tx: LoginTransaction, outcome: LoginOutcome, previous: SsoSession | None) -> str:
    """Open the SSO session for ``outcome`` and mark the transaction; returns the new cookie."""
    if not acr_is_acceptable(tx, outcome.acr):
        # An authenticator must never downgrade silently; this is the last guard.
        raise TransactionError(
            "Le moyen utilisé n'atteint pas le niveau de sécurité demandé par le service.",
            "unmet_authentication_requirements",
        )
    practitioner = find_practitioner(outcome.national_id)
    if practitioner is None or not practitioner.active:
        raise TransactionError("Ce professionnel n'est pas autorisé à se connecter.", "inactive")
    if previous is not None:
        end_session(previous)
    session, cookie = open_session(
        outcome.national_id, outcome.auth_mode, outcome.acr, outcome.auth_time
    )
    mark_authenticated(tx, outcome, session.id)
    return cookie
