"""What the run page shows of the error scenarios: the client's (and whether they apply), and
on each exchange a scenario changed, which one. The debugger only reads them
(``devtools.scenarios.reading``); it learns of an application as a service would, from the
answer: its ``X-PSC-Scenario`` header, or the ``error_description`` of an error that came back
through the browser (whose headers the debugger never sees)."""

from __future__ import annotations

from typing import Any

from psc_idp.devtools.scenarios.reading import (
    DESCRIPTION,
    HEADER,
    ScenarioView,
    by_ids,
    for_client,
    ids_in_header,
)


def of_client(client_id: str) -> list[ScenarioView]:
    return for_client(client_id) if client_id else []


def applied_ids(exchange: dict[str, Any]) -> list[str]:
    """The scenarios the exchange's answer names, in order, once each."""
    found: list[str] = []
    response = exchange.get("response") or {}
    for name, value in (response.get("headers") or {}).items():
        if name.lower() == HEADER.lower():
            found += ids_in_header(value)
    described = [
        ((response.get("json") or {}).get("error_description")),
        ((exchange.get("request") or {}).get("query") or {}).get("error_description"),
    ]
    for text in described:
        if isinstance(text, str):
            found += DESCRIPTION.findall(text)
    return list(dict.fromkeys(found))


def notes(exchanges: list[dict[str, Any]]) -> list[list[dict[str, str | None]]]:
    """For each exchange, the scenarios that changed it: id and description (None when the
    scenario has been removed since)."""
    ids = [applied_ids(exchange) for exchange in exchanges]
    known = by_ids(list(dict.fromkeys(i for each in ids for i in each)))
    return [
        [{"id": i, "description": known[i].description if i in known else None} for i in each]
        for each in ids
    ]
