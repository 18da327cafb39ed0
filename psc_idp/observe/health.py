"""``/health/live`` (the process answers; no database) and ``/health/ready`` (database reachable
within ``PSC_HEALTH_TIMEOUT``, signing keys loaded, schema at the code's Alembic head), in the
shape of Keycloak's health endpoints: ``{"status": "UP"|"DOWN", "checks": [...]}``, 503 when
DOWN. A load balancer sends traffic to ready instances and restarts dead ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from psc_idp.config import current_settings
from psc_idp.migrations import database_revision, head_revision

bp = Blueprint("health", __name__)
ENGINE = "psc_health_engine"
HEAD = "psc_schema_head"

Check = dict[str, Any]


def _answer(checks: list[Check]) -> Response:
    up = all(check["status"] == "UP" for check in checks)
    response = jsonify(status="UP" if up else "DOWN", checks=checks)
    response.status_code = 200 if up else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/health/live")
def live() -> Response:
    return _answer([])


@bp.get("/health/ready")
def ready() -> Response:
    return _answer([_run("signing_keys", _signing_keys), _run("database", _database)])


class NotReady(Exception):
    """A check that ran and found the instance not ready, with what it saw."""

    def __init__(self, data: dict[str, Any]):
        super().__init__(data.get("reason", ""))
        self.data = data


def _run(name: str, check: Callable[[], dict[str, Any]]) -> Check:
    try:
        return {"name": name, "status": "UP", "data": check()}
    except NotReady as not_ready:
        return {"name": name, "status": "DOWN", "data": not_ready.data}
    except Exception as error:  # any failure is the answer, never a 500
        return {"name": name, "status": "DOWN", "data": {"reason": _reason(error)}}


def _reason(error: Exception) -> str:
    # The exception's class and first line: enough to act on, no connection string.
    first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _signing_keys() -> dict[str, Any]:
    settings = current_settings()
    key = current_app.extensions["psc_signing_keys"].active(settings.default_signing_alg)
    return {"alg": key.alg, "kid": key.kid}


def _database() -> dict[str, Any]:
    """Reachable, and at the code's migration head."""
    with _engine().connect() as connection:
        connection.execute(text("SELECT 1"))
        at = database_revision(connection)
    head = current_app.extensions.setdefault(HEAD, head_revision())
    data: dict[str, Any] = {"revision": at, "head": head}
    if at != head:
        raise NotReady(data | {"reason": "migrations en retard : psc-idp db upgrade"})
    return data


def _engine() -> Engine:
    """An engine of its own, without pool: each probe opens a connection (what a new request
    would need), with connect and statement timeouts so that a dead database answers quickly."""
    engine = current_app.extensions.get(ENGINE)
    if engine is None:
        settings = current_settings()
        engine = create_engine(
            settings.sqlalchemy_url,
            poolclass=NullPool,
            connect_args=_timeouts(settings.sqlalchemy_url, settings.health_timeout),
        )
        current_app.extensions[ENGINE] = engine
    return engine


def _timeouts(url: str, seconds: int) -> dict[str, Any]:
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return {"connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"}
    if backend == "sqlite":
        return {"timeout": seconds}
    return {}
