"""Who gets JSON and who gets a page when a request is refused or fails: one policy per
blueprint, registered by the module that registers the blueprint (``register_policy``).

A JSON API (the protocol under the issuer, the e-CPS device API, the FHIR directory) answers
RFC 6749 style JSON, or its own error document (FHIR: OperationOutcome); the few protocol
endpoints a browser visits (authorize, logout) are named as pages. Elsewhere (the wallet and
the means' pages) a browser gets a French page, and a caller that sent JSON or asks for it gets
JSON. A policy covers its scope of paths, so a URL that matches no route answers in the same
words as its neighbours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, jsonify, request

POLICIES = "psc_error_policies"


@dataclass(frozen=True)
class ErrorPolicy:
    #: Path prefix the policy covers (the blueprint's URLs and unmatched ones beside them).
    scope: str
    #: True: errors are JSON whatever the caller accepts.
    json: bool
    #: The API's own error document, ``(status, description) -> Response``.
    render: Callable[[int, str], Response] | None = None
    #: Paths within the scope, relative to it, that a browser visits: pages.
    pages: tuple[str, ...] = ()
    #: The blueprints whose policy this is.
    blueprints: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        return path.startswith(self.scope)

    def is_page(self, path: str) -> bool:
        return "/" + path.removeprefix(self.scope).lstrip("/") in self.pages


def register_policy(app: Flask, policy: ErrorPolicy) -> None:
    app.extensions.setdefault(POLICIES, []).append(policy)


def policy_for(path: str) -> ErrorPolicy | None:
    """The most specific policy covering ``path``."""
    covering = [p for p in current_app.extensions.get(POLICIES, []) if p.covers(path)]
    return max(covering, key=lambda p: len(p.scope), default=None)


def wants_json() -> bool:
    policy = policy_for(request.path)
    if policy is not None and policy.json and not policy.is_page(request.path):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(status: int, error: str, description: str) -> Response:
    policy = policy_for(request.path)
    if policy is not None and policy.render is not None:
        return policy.render(status, description)
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response
