"""Recording a successful login: checks that hold whatever the means, then the SSO session.
A login without a browser (CIBA) goes through the same checks and opens the same session."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from psc_idp import audit, lockout
from psc_idp.atomic import claim
from psc_idp.audit import events
from psc_idp.directory.lookup import find_practitioner
from psc_idp.extensions import db
from psc_idp.login.models import LoginStatus, LoginTransaction, SsoSession
from psc_idp.login.sessions import end_session, open_session
from psc_idp.login.transactions import (
    LoginOutcome,
    TransactionError,
    acr_is_acceptable,
    mark_authenticated,
    record_failure,
)
from psc_idp.observe.metrics import count_login


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
        # The error page rolls the request back: the refusal is kept in a commit of its own,
        # after the rollback of whatever the request had staged (as the page would do).
        client_id, headless = tx.client_id, tx.browser_hash == ""
        db.session.rollback()
        _audit(client_id, headless, outcome, "refused", reason=refused.reason)
        db.session.commit()
        raise refused
    if previous is not None:
        end_session(previous)
    _clear_failures(outcome.national_id)
    session, cookie = open_session(
        outcome.national_id,
        outcome.auth_mode,
        outcome.acr,
        outcome.auth_time,
        amr=outcome.amr,
        upstream=outcome.upstream,
    )
    mark_authenticated(tx, outcome, session.id)
    _audit_end(tx, outcome, "success")
    return cookie


def record_failed_attempt(tx: LoginTransaction, means: str, message: str) -> bool:
    """A means said no (wrong PIN, unknown card…): counted, audited; True when the login must
    now be abandoned (too many failures)."""
    abandoned = record_failure(tx)
    event = events.LOGIN_ABANDONED if abandoned else events.LOGIN_FAILED
    audit.record(
        event,
        tx.login_hint or None,
        client_id=tx.client_id,
        means=means,
        outcome="failure",
        failures=tx.failures,
        message=message[:200],
    )
    count_login(means, "failure")
    return abandoned


def _audit_end(tx: LoginTransaction, outcome: LoginOutcome, result: str, **detail: str) -> None:
    _audit(tx.client_id, tx.browser_hash == "", outcome, result, **detail)


def _audit(
    client_id: str, headless: bool, outcome: LoginOutcome, result: str, **detail: str
) -> None:
    event = events.LOGIN_SUCCEEDED if result == "success" else events.LOGIN_REFUSED
    audit.record(
        event,
        outcome.national_id,
        client_id=client_id,
        means=outcome.auth_mode,
        acr=outcome.acr,
        outcome=result,
        headless=headless,
        **detail,
    )
    count_login(outcome.auth_mode, result)


def accept_headless_login(tx: LoginTransaction, outcome: LoginOutcome) -> bool:
    """The same checks and session as a browser login, without cookie; pending → authenticated
    at most once. A refused outcome ends the login as failed."""
    refused = refusal(tx, outcome)
    if refused is not None or outcome.national_id != tx.login_hint:
        won = refuse_headless_login(tx)
        if won:
            reason = refused.reason if refused is not None else "other_national_id"
            _audit_end(tx, outcome, "refused", reason=reason)
        return won
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
        _audit_end(tx, outcome, "success")
    _refresh(db.session, tx)
    return won


def refuse_headless_login(tx: LoginTransaction) -> bool:
    won = claim(LoginTransaction, tx.id, LoginStatus.PENDING, LoginStatus.FAILED)
    _refresh(db.session, tx)
    return won


def fail_headless_login(tx: LoginTransaction, means: str) -> bool:
    """The means reports a failure (denied on the phone, expired): pending → failed, once."""
    won = refuse_headless_login(tx)
    if won:
        audit.record(
            events.LOGIN_FAILED,
            tx.login_hint or None,
            client_id=tx.client_id,
            means=means,
            outcome="failure",
            headless=True,
        )
        count_login(means, "failure")
    return won


def _refresh(session: Session, tx: LoginTransaction) -> None:
    session.flush()
    session.refresh(tx)
