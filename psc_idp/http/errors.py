"""Who gets JSON and who gets a page when a request is refused or fails.

Protocol endpoints (under the issuer) and the e-CPS device API answer RFC 6749 style JSON;
so does any caller that sent JSON or asks for it. Browsers get a French page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, jsonify, request

from psc_idp.config import current_settings

#: JSON APIs outside the issuer's paths.
JSON_API_PREFIXES = ("/ecps/api/",)


def wants_json() -> bool:
    path = request.path
    if path.startswith(urlsplit(current_settings().issuer).path + "/"):
        return True
    if path.startswith(JSON_API_PREFIXES) or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response
