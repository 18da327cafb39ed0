"""Who gets JSON and who gets a page when a request is refused or fails.

Protocol endpoints (under the issuer) and the e-CPS device API answer RFC 6749 style JSON;
so does any caller that sent JSON or asks for it. Browsers get a French page. An API with its
own error document (the FHIR directory: OperationOutcome) registers it for its prefix in
``app.extensions["psc_api_errors"]``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, jsonify, request

from psc_idp.config import current_settings

#: JSON APIs outside the issuer's paths.
JSON_API_PREFIXES = ("/ecps/api/", "/fhir/")
#: Endpoints under the issuer that a browser visits: they answer pages.
BROWSER_ENDPOINTS = ("/protocol/openid-connect/auth", "/protocol/openid-connect/logout")


def wants_json() -> bool:
    path = request.path
    issuer_path = urlsplit(current_settings().issuer).path
    browser = path.removeprefix(issuer_path) in BROWSER_ENDPOINTS
    if path.startswith(issuer_path + "/") and not browser:
        return True
    if path.startswith(JSON_API_PREFIXES) or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(status: int, error: str, description: str) -> Response:
    for prefix, render in current_app.extensions.get("psc_api_errors", {}).items():
        if request.path.startswith(prefix):
            return render(status, description)
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response
