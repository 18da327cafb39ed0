"""Recording a successful login: checks that hold whatever the means, then the SSO session.
A login without a browser (CIBA) goes through the same checks and opens the same session."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from psc_idp import lockout
from psc_idp.atomic import claim
from psc_idp.directory.lookup import find_practitioner
from psc_idp.extensions import db
from psc_idp.login.models import LoginStatus, LoginTransaction, SsoSession
from psc_idp.login.sessions import end_session, open_session
from psc_idp.login.transactions import (
    LoginOutcome,
    TransactionError,
    acr_is_acceptable,
    mark_authenticated,
)


def refusal(tx: LoginTransaction, outcome: LoginOutcome) -> TransactionError | None:
    """Why ``outcome`` cannot end ``tx``, whatever the means; None if it can."""
    if not acr_is_acceptable(tx, outcome.acr):
        # A means must never downgrade silently; this is the last guard.
        return TransactionError(
            "Le moyen utilisé n'atteint pas le niveau de sécurité demandé par le service.",
            "unmet_authentication_requirements",
        )
    practitioner = find_practitioner(outcome.national_id)
    if practitioner is None or not practitioner.active:
        return TransactionError("Ce professionnel n'est pas autorisé à se connecter.", "inactive")
    if lockout.is_locked(lockout.PROFESSIONAL, outcome.national_id):
        # Whatever the means: a card or a key that answers does not lift a lockout.
        return TransactionError(LOCKED_MESSAGE, "locked")
    return None


LOCKED_MESSAGE = (
    "Votre compte est temporairement verrouillé après trop d'essais infructueux. "
    "Réessayez plus tard ou contactez votre administrateur."
)


def _clear_failures(national_id: str) -> None:
    """A login succeeded: its failures no longer count (Keycloak's successful login)."""
    lockout.succeed(
        lockout.PROFESSIONAL,
        national_id,
        lockout.check(lockout.PROFESSIONAL, national_id),
        in_session=True,
    )


def accept_login(tx: LoginTransaction, outcome: LoginOutcome, previous: SsoSession | None) -> str:
    """Open the SSO session for ``outcome`` and mark the transaction; returns the new cookie."""
    refused = refusal(tx, outcome)
    if refused is not None:
        raise refused
    if previous is not None:
        end_session(previous)
    _clear_failures(outcome.national_id)
    session, cookie = open_session(
        outcome.national_id, outcome.auth_mode, outcome.acr, outcome.auth_time
    )
    mark_authenticated(tx, outcome, session.id)
    return cookie


def accept_headless_login(tx: LoginTransaction, outcome: LoginOutcome) -> bool:
    """The same checks and session as a browser login, without cookie; pending → authenticated
    at most once. A refused outcome ends the login as failed."""
    if refusal(tx, outcome) is not None or outcome.national_id != tx.login_hint:
        return refuse_headless_login(tx)
    _clear_failures(outcome.national_id)
    sid = str(uuid.uuid4())
    won = claim(
        LoginTransaction,
        tx.id,
        LoginStatus.PENDING,
        LoginStatus.AUTHENTICATED,
        national_id=outcome.national_id,
        auth_mode=outcome.auth_mode,
        acr=outcome.acr,
        auth_time=outcome.auth_time,
        sid=sid,
    )
    if won:
        open_session(
            outcome.national_id, outcome.auth_mode, outcome.acr, outcome.auth_time, session_id=sid
        )
    _refresh(db.session, tx)
    return won


def refuse_headless_login(tx: LoginTransaction) -> bool:
    won = claim(LoginTransaction, tx.id, LoginStatus.PENDING, LoginStatus.FAILED)
    _refresh(db.session, tx)
    return won


def _refresh(session: Session, tx: LoginTransaction) -> None:
    session.flush()
    session.refresh(tx)
