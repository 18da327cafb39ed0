"""The authenticator interface, in the spirit of Keycloak's authenticator SPI.

An authenticator shows its page or sends its push (``start``), then reads what came back
(``finish``) and answers with a result: success with who logged in, retry with a message,
failure, or pending. It never issues codes or tokens: the login layer records the outcome and
the protocol resumes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.login.models import LoginTransaction
from psc_idp.login.transactions import LoginOutcome


@dataclass(frozen=True)
class AuthResult:
    status: str  # "success" | "retry" | "failure" | "pending"
    outcome: LoginOutcome | None = None
    message: str = ""
    #: For ``pending``: query parameters of the page shown next (e.g. the chosen national id).
    params: dict[str, str] | None = None

    @classmethod
    def success(cls, outcome: LoginOutcome) -> AuthResult:
        return cls("success", outcome)

    @classmethod
    def retry(cls, message: str) -> AuthResult:
        return cls("retry", message=message)

    @classmethod
    def failure(cls, message: str) -> AuthResult:
        return cls("failure", message=message)

    @classmethod
    def pending(cls, **params: str) -> AuthResult:
        return cls("pending", params=params or None)


class Authenticator(ABC):
    #: Short id used in URLs and in the ``PSC_AUTHENTICATORS`` setting.
    id: ClassVar[str]
    #: French label and one-line description on the login page.
    label: ClassVar[str]
    description: ClassVar[str]
    #: The ``authMode`` values a login with this means can end with.
    auth_modes: ClassVar[tuple[str, ...]]
    #: True if usable without a browser (CIBA).
    browserless: ClassVar[bool] = False

    def is_enabled(self) -> bool:
        return True

    def acrs(self) -> set[str]:
        mapping = current_settings().acr_by_auth_mode
        return {mapping[mode] for mode in self.auth_modes if mode in mapping}

    def applies_to(self, tx: LoginTransaction) -> bool:
        """Whether this means can satisfy the level of assurance the request asks for."""
        return not tx.acceptable_acrs or bool(self.acrs() & set(tx.acceptable_acrs))

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
