"""Errors of the e-CPS service: a code for machines, a French message for people."""

from __future__ import annotations


class EcpsError(Exception):
    def __init__(self, error: str, message: str, status: int = 400, **extra: object):
        super().__init__(error)
        self.error = error
        self.message = message
        self.status = status
        self.extra = extra

    def as_dict(self) -> dict[str, object]:
        return {"error": self.error, "error_description": self.message, **self.extra}
