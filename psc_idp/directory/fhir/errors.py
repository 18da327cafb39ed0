"""Errors of the FHIR API: an OperationOutcome (``application/fhir+json``), never a page.

The app's own error handlers (the guard's refusals, 404, 405, 500, 503) answer JSON under
``/fhir/`` and hand the document to :func:`outcome_response` through ``psc_idp.http.errors``."""

from __future__ import annotations

from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Response

FHIR_JSON = "application/fhir+json; charset=utf-8"

#: HTTP status → OperationOutcome issue code (R4 IssueType).
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    429: "throttled",
    503: "transient",
}


class FhirError(Exception):
    """Raised by the views; rendered by the blueprint as an OperationOutcome."""

    def __init__(self, status: int, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics


def fhir_response(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type=FHIR_JSON)


def outcome_response(status: int, diagnostics: str) -> Response:
    outcome = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error" if status < 500 else "fatal",
                    "code": ISSUE_CODES.get(status, "exception"),
                    "diagnostics": diagnostics,
                }
            ],
        }
    )
    return fhir_response(outcome.model_dump_json(), status)
