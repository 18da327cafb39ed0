"""Error scenarios: a client's list, add one, remove one or all. The checks and the storage are
the development tools' own (``devtools.scenarios.rules.check`` and ``store``, as
``psc-idp scenarios``): one validation, its French refusals shown on the form."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.admin.blueprint import audited, bp, confirmed, page
from psc_idp.config import current_settings
from psc_idp.devtools.scenarios import reading, store
from psc_idp.devtools.scenarios.rules import (
    CIBA_OUTCOMES,
    EFFECTS,
    ENDPOINTS,
    ERRORS,
    FLAGS,
    MAX_DELAY,
    STATUS_RANGE,
    ScenarioInvalid,
    check,
)
from psc_idp.extensions import db
from psc_idp.protocol.clients import all_clients
from psc_idp.protocol.models import Client


def _text(name: str, limit: int = 255) -> str:
    value = request.form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _client_or_none(client_id: str) -> Client | None:
    return db.session.get(Client, client_id[:255]) if client_id else None


def _page(client_id: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    client = _client_or_none(client_id)
    return (
        page(
            "scenarios.html",
            clients=all_clients(),
            counts=reading.counts(),
            client=client,
            scenarios=reading.for_client(client.client_id) if client else [],
            enabled=current_settings().scenarios_enabled,
            endpoints=ENDPOINTS,
            effects=[(e, reading.EFFECT_LABELS.get(e, e), EFFECTS[e]) for e in EFFECTS],
            flags=FLAGS,
            errors=ERRORS,
            ciba_outcomes=CIBA_OUTCOMES,
            max_delay=MAX_DELAY,
            status_range=STATUS_RANGE,
            values=context.pop("values", {}),
            **context,
        ),
        status,
    )


@bp.get("/scenarios")
def scenarios() -> ResponseReturnValue:
    client_id = str(request.args.get("client_id", "")).strip()
    if client_id and _client_or_none(client_id) is None:
        abort(404, description=f"Aucun client « {client_id[:255]} ».")
    return _page(client_id)


@bp.post("/scenarios/add")
def add_scenario() -> ResponseReturnValue:
    client_id = _text("client_id")
    values = {name: _text(name) for name in ("national_id", "endpoint", "effect", "value")}
    if _client_or_none(client_id) is None:
        return _page("", 400, values=values, error="Choisissez un client enregistré.")
    effect = values["effect"]
    value: object = True if effect in FLAGS and not values["value"] else values["value"]
    try:
        spec = check(client_id, values["national_id"] or None, values["endpoint"], effect, value)
        row, changed = store.add(spec)
    except ScenarioInvalid as error:
        db.session.rollback()
        return _page(client_id, 400, values=values, error=f"Scénario refusé : {error}")
    audited(
        "admin_scenario_added",
        row.national_id,
        client_id=client_id,
        scenario=row.id,
        endpoint=row.endpoint,
        effect=row.effect,
        value=row.value,
        changed=changed,
    )
    db.session.commit()
    return redirect(url_for("admin.scenarios", client_id=client_id))


@bp.post("/scenarios/remove")
def remove_scenario() -> ResponseReturnValue:
    client_id = _text("client_id")
    client = _client_or_none(client_id)
    if client is None:
        abort(404, description=f"Aucun client « {client_id} ».")
    scenario_id = _text("scenario_id", 16) or None
    listed = {s.id: s for s in reading.for_client(client.client_id)}
    if scenario_id is not None and scenario_id not in listed:
        abort(404, description=f"Aucun scénario « {scenario_id} » pour {client.client_id}.")
    if scenario_id is not None:
        question = f"Retirer le scénario {scenario_id} ({listed[scenario_id].description}) ?"
    else:
        question = f"Retirer les {len(listed)} scénarios du client « {client.client_id} » ?"
    asked = confirmed(question, url_for("admin.scenarios", client_id=client.client_id))
    if asked is not None:
        return asked
    removed = store.remove(client.client_id, scenario_id)
    audited(
        "admin_scenario_removed",
        client_id=client.client_id,
        scenario=scenario_id or "all",
        removed=removed,
    )
    db.session.commit()
    return redirect(url_for("admin.scenarios", client_id=client.client_id))
