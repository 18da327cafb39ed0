"""``/fhir/v1``: read and search-type on Practitioner, PractitionerRole and Organization, and
``/metadata``. GET only: the directory API is read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.datastructures import MultiDict

from psc_idp.config import current_settings
from psc_idp.directory.fhir import api_keys, bundle, search
from psc_idp.directory.fhir.capability import capability_statement
from psc_idp.directory.fhir.errors import FhirError, fhir_response, outcome_response
from psc_idp.directory.fhir.params import count
from psc_idp.http.errors import ErrorPolicy, register_policy
from psc_idp.timeutil import iso_utc, now

bp = Blueprint("fhir", __name__, url_prefix="/fhir/v1")

SEARCHES: dict[str, Callable[[MultiDict[str, str], int], search.Page]] = {
    "Practitioner": search.practitioners,
    "PractitionerRole": search.roles,
    "Organization": search.organizations,
}
READS: dict[str, Callable[[str], Any]] = {
    "Practitioner": search.find_practitioner,
    "PractitionerRole": search.find_role,
    "Organization": search.find_organization,
}


@bp.before_request
def require_api_key() -> None:
    if request.endpoint == "fhir.metadata" or not api_keys.keys_configured():
        return
    if not api_keys.is_valid(request.headers.get(api_keys.HEADER)):
        raise FhirError(401, f"Missing or invalid {api_keys.HEADER} header")


@bp.errorhandler(FhirError)
def fhir_error(error: FhirError) -> Response:
    return outcome_response(error.status, error.diagnostics)


@bp.get("/metadata")
def metadata() -> Response:
    from psc_idp.cli import package_version

    statement = capability_statement(bundle.base_url(), package_version(), iso_utc(now()))
    return fhir_response(statement.model_dump_json())


@bp.get("/<resource_type>")
def search_type(resource_type: str) -> Response:
    searcher = SEARCHES.get(resource_type)
    if searcher is None:
        raise FhirError(404, f"Unknown resource type: {resource_type}")
    settings = current_settings()
    size = count(request.args, settings.fhir_default_count, settings.fhir_max_count)
    page = searcher(request.args, size)
    return fhir_response(bundle.searchset(page).model_dump_json())


@bp.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    reader = READS.get(resource_type)
    if reader is None:
        raise FhirError(404, f"Unknown resource type: {resource_type}")
    found = reader(resource_id)
    if found is None:
        raise FhirError(404, f"{resource_type}/{resource_id} is not known")
    return fhir_response(bundle.to_fhir(found).model_dump_json())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The app's own handlers (guard refusals, 404, 405, 500, 503) answer OperationOutcome here.
    policy = ErrorPolicy("/fhir/", json=True, render=outcome_response, blueprints=("fhir",))
    register_policy(app, policy)
