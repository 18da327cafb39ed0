"""The interface of a means of authentication, in the spirit of Keycloak's authenticator SPI.

A means shows its page or sends its push (``start``), then reads what came back (``finish``)
and answers with a result: success with who logged in, retry with a message, failure, or
pending. It never issues codes or tokens: ``login/`` records the outcome and the protocol
resumes. Beside the login step a means says:

- whether a professional has set it up, and where to do it (``configured_for``,
  ``setup_url``: Keycloak's ``configuredFor`` and required actions);
- which CIBA ``channels`` it serves, and for those its browserless side: check that the
  professional can be reached, start the login (send the push), read the outcome;
- the French labels of the audit events it records (``audit_events``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.login.headless import HeadlessRefused
from psc_idp.login.models import LoginTransaction
from psc_idp.login.results import AuthResult, AuthStatus
from psc_idp.login.transactions import LoginOutcome

__all__ = ["Authenticator", "AuthResult", "AuthStatus", "HeadlessRefused", "LoginOutcome"]


class Authenticator(ABC):
    #: Short id, used in URLs (``/wallet/login/<tx>/<id>``).
    id: ClassVar[str]
    #: French label and one-line description on the login page.
    label: ClassVar[str]
    description: ClassVar[str]
    #: The ``authMode`` values a login with this means can end with.
    auth_modes: ClassVar[tuple[str, ...]]
    #: CIBA ``channel`` values this means serves without a browser (empty: browser only).
    channels: ClassVar[tuple[str, ...]] = ()
    #: Whether a CIBA request that names no channel is for this means.
    default_channel: ClassVar[bool] = False
    #: ``event`` → French label, for the events this means records in the audit trail.
    audit_events: ClassVar[dict[str, str]] = {}

    def is_enabled(self) -> bool:
        return True

    def acrs(self) -> set[str]:
        mapping = current_settings().acr_by_auth_mode
        return {mapping[mode] for mode in self.auth_modes if mode in mapping}

    def applies_to(self, tx: LoginTransaction) -> bool:
        """Whether this means can satisfy the level of assurance the request asks for."""
        return not tx.acceptable_acrs or bool(self.acrs() & set(tx.acceptable_acrs))

    # --- set-up ----------------------------------------------------------------------------
    def configured_for(self, national_id: str) -> bool:
        """Whether the professional has what this means needs (a device, a key…)."""
        return True

    def setup_url(self) -> str | None:
        """The page where a logged-in professional sets this means up, if it needs one."""
        return None

    # --- browser login ---------------------------------------------------------------------
    @abstractmethod
    def start(self, tx: LoginTransaction, error: str = "") -> ResponseReturnValue:
        """Show the first page of this means (or send the push)."""

    @abstractmethod
    def finish(self, tx: LoginTransaction, form: Mapping[str, str]) -> AuthResult:
        """Read the form posted back and say what it established."""

    def poll(self, tx: LoginTransaction) -> dict[str, Any]:
        """For means that wait for something outside the browser (a phone): where it stands,
        as JSON for the waiting page. ``status`` is ``pending`` while nothing happened."""
        return {"status": "none"}

    # --- login without a browser (CIBA), for the means that serve ``channels`` ---------------
    def headless_acr(self) -> str:
        """The ``acr`` a login on this means's channel reaches."""
        return current_settings().acr_by_auth_mode[self.auth_modes[0]]

    def check_headless(self, national_id: str) -> None:
        """Raise ``HeadlessRefused`` if the professional cannot be reached by this means."""
        return None

    def start_headless(self, tx: LoginTransaction) -> str | None:
        """Start the login (send the push…); returns this means's reference for it, if any.
        Raise ``HeadlessRefused`` to refuse."""
        return None

    def headless_result(self, tx: LoginTransaction) -> AuthResult:
        """Where the login stands: pending, success (who, how, when) or failure."""
        return AuthResult.pending()
