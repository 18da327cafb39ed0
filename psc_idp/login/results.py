"""What a means answers after a step of a login, browser or not."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from psc_idp.login.transactions import LoginOutcome


class AuthStatus(StrEnum):
    SUCCESS = "success"
    RETRY = "retry"
    FAILURE = "failure"
    PENDING = "pending"


@dataclass(frozen=True)
class AuthResult:
    status: AuthStatus
    outcome: LoginOutcome | None = None
    message: str = ""
    #: For ``pending``: query parameters of the page shown next (e.g. the chosen national id).
    params: dict[str, str] | None = None

    @classmethod
    def success(cls, outcome: LoginOutcome) -> AuthResult:
        return cls(AuthStatus.SUCCESS, outcome)

    @classmethod
    def retry(cls, message: str) -> AuthResult:
        return cls(AuthStatus.RETRY, message=message)

    @classmethod
    def failure(cls, message: str) -> AuthResult:
        return cls(AuthStatus.FAILURE, message=message)

    @classmethod
    def pending(cls, **params: str) -> AuthResult:
        return cls(AuthStatus.PENDING, params=params or None)
