"""UserInfo (OIDC Core §5.3): the sectoral claims, computed from the directory at each call.

The bearer token comes in the ``Authorization`` header (GET or POST) or, for POST, in a form
body (RFC 6750 §2.2) — never both."""

from __future__ import annotations

from typing import Any

from flask import Request, Response, jsonify

from psc_idp.config import current_settings
from psc_idp.directory.reading import read_practitioner
from psc_idp.directory.userinfo import build_userinfo
from psc_idp.protocol import scopes
from psc_idp.protocol.claims import service_account_subject, subject_for
from psc_idp.protocol.claims_request import requested_claims
from psc_idp.protocol.lookups import TokenFamily
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import binding_matches, envelope, find_active_access_token, sign


def bearer_error(status: int, error: str, description: str) -> Response:
    realm = current_settings().realm
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="{realm}", error="{error}", error_description="{description}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def presented_token(request: Request) -> tuple[str | None, Response | None]:
    header = request.headers.get("Authorization", "")
    in_form = request.form.getlist("access_token") if request.method == "POST" else []
    if header and in_form or len(in_form) > 1:
        return None, bearer_error(400, "invalid_request", "More than one token presented")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, bearer_error(401, "invalid_token", "Token not provided")
        return value.strip(), None
    if in_form:
        return in_form[0], None
    return None, bearer_error(401, "invalid_token", "Token not provided")


def userinfo_response(request: Request) -> Response:
    value, failure = presented_token(request)
    if failure is not None:
        return failure
    found = find_active_access_token(value)
    if found is None:
        return bearer_error(401, "invalid_token", "Token verification failed")
    _, token = found
    if not binding_matches(token.cnf_x5t):
        return bearer_error(401, "invalid_token", "Certificate binding does not match")
    family, client = token.family, token.client
    if "openid" not in family.scope.split():
        return bearer_error(403, "insufficient_scope", "Missing openid scope")
    claims = _claims(family, client)
    if claims is None:
        return bearer_error(401, "invalid_token", "User disabled")
    if client is not None and client.userinfo_signed_response_alg:
        return _signed(claims, client)
    response = jsonify(claims)
    response.headers["Cache-Control"] = "no-store"
    return response


def _claims(grant: TokenFamily, client: Client | None) -> dict[str, Any] | None:
    settings = current_settings()
    granted = scopes.effective(grant.scope, settings.default_scopes)
    if grant.national_id is None:
        return {
            "sub": service_account_subject(grant.client_id),
            "preferred_username": f"service-account-{grant.client_id}",
            "email_verified": False,
            **scopes.claims_for(scopes.USERINFO, granted, scopes.Subject(None, client)),
        }
    practitioner = read_practitioner(grant.national_id)
    if practitioner is None or not practitioner.active:
        return None
    auth_mode = grant.auth_mode or ""
    subject_of = scopes.Subject(practitioner, client)
    standard = scopes.claims_for(scopes.USERINFO, granted, subject_of)
    if client is not None:
        standard.update(requested_claims(grant.claims, "userinfo", subject_of, client.scopes or []))
    return build_userinfo(
        practitioner,
        sub=subject_for(settings, client, practitioner.national_id),
        auth_mode=auth_mode,
        palier=settings.palier_by_auth_mode.get(auth_mode, ""),
        scopes=granted,
        profile=settings.userinfo_profile,
        standard=standard,
    )


def _signed(claims: dict[str, Any], client: Client) -> Response:
    settings = current_settings()
    body = {**envelope(settings, settings.id_token_lifetime), "aud": client.client_id, **claims}
    response = Response(sign(body, client.userinfo_signed_response_alg), mimetype="application/jwt")
    response.headers["Cache-Control"] = "no-store"
    return response
