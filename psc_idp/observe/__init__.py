"""Observing a running instance: request ids and logs, Prometheus metrics, health endpoints.

The per-request hooks cost a few microseconds (a context variable, one histogram observation,
one counter; the access line only when ``PSC_ACCESS_LOG`` is on)."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from psc_idp.config import Settings
from psc_idp.http.address import client_address
from psc_idp.observe import request_id
from psc_idp.observe.logs import access_line, configure_logging
from psc_idp.observe.metrics import observe_request


def init_app(app: Flask, settings: Settings) -> None:
    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.observe import health, metrics_view

    configure_logging(settings)
    # First of the before_request hooks: a request refused by the input guard has its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_end)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_view.bp)
    register_policy(app, ErrorPolicy("/health", json=True, blueprints=("health",)))
    register_policy(app, ErrorPolicy("/metrics", json=True, blueprints=("metrics",)))


def _begin() -> None:
    g.psc_started = time.perf_counter()
    request_id.begin(request_id.accepted_or_new(request.headers.get(request_id.HEADER)))


def _finish(response: Response) -> Response:
    started = g.get("psc_started")
    if started is None:  # a hook before ours answered (none today): nothing measured
        return response
    elapsed = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    response.headers[request_id.HEADER] = request_id.current()
    observe_request(endpoint, request.method, response.status_code, elapsed)
    access_line(
        {
            "method": request.method,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "remote_addr": client_address(request),
            "client_id": request_id.current_client() or None,
        }
    )
    return response


def _end(_error: BaseException | None) -> None:
    request_id.end()
