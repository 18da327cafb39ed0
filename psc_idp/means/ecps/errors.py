"""Errors of the e-CPS service: a code for machines, a French message for people."""

from __future__ import annotations


class EcpsError(Exception):
    #: Seconds after which trying again makes sense (sent as ``Retry-After``), if any.
    retry_after: int | None = None

    def __init__(self, error: str, message: str, status: int = 400, **extra: object):
        super().__init__(error)
        self.error = error
        self.message = message
        self.status = status
        self.extra = extra

    def as_dict(self) -> dict[str, object]:
        return {"error": self.error, "error_description": self.message, **self.extra}


class TooManyRequests(EcpsError):
    """429: a throttle or a bound was reached; ``Retry-After`` says when to come back."""

    def __init__(self, message: str, retry_after: int):
        super().__init__("too_many_requests", message, 429)
        self.retry_after = max(1, int(retry_after))
