"""Errors of the test PKI: a code for machines, a French message for people."""

from __future__ import annotations

#: Why a client certificate was refused, in the order the checks run.
REJECTION_REASONS = (
    "untrusted_chain",
    "expired",
    "not_yet_valid",
    "wrong_key_usage",
    "revoked",
    "crl_unavailable",
    "unknown_identity",
    "inactive",
)


class PkiError(ValueError):
    """A certificate cannot be issued or revoked; the message is in French, for people."""


class UnknownPractitioner(PkiError, LookupError):
    """No practitioner with this national id in the directory."""


class CertificateRejected(Exception):
    """A client certificate failed verification: ``reason`` (one of
    :data:`REJECTION_REASONS`) for code, ``message_fr`` for the professional."""

    def __init__(self, reason: str, message_fr: str):
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {message_fr}")
        self.reason = reason
        self.message_fr = message_fr
