"""``GET /metrics``: Prometheus' text format, for a scraper holding ``PSC_METRICS_TOKEN``
(``Authorization: Bearer …``) and/or coming from ``PSC_METRICS_ALLOW`` (each one configured
must be satisfied). Neither configured: loopback only in development mode, refused otherwise."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request

from psc_idp.config import Settings, current_settings
from psc_idp.http.address import client_address
from psc_idp.observe.metrics import exposition

bp = Blueprint("metrics", __name__)


def _refusal(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def _from(networks: list[str], address: str) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in networks)


def refusal(settings: Settings) -> Response | None:
    address = client_address(request)
    if not settings.metrics_token and not settings.metrics_allow:
        if settings.dev_mode and _from(["127.0.0.0/8", "::1/128"], address):
            return None
        return _refusal(403, "forbidden", "Metrics are not enabled: set PSC_METRICS_TOKEN.")
    if settings.metrics_allow and not _from(settings.metrics_allow, address):
        return _refusal(403, "forbidden", "This address may not read the metrics.")
    if settings.metrics_token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        expected = settings.metrics_token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), expected):
            return _refusal(401, "unauthorized", "A valid Bearer token is required.")
    return None


@bp.get("/metrics")
def metrics() -> Response:
    refused = refusal(current_settings())
    if refused is not None:
        return refused
    body, content_type = exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
