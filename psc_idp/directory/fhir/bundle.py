"""searchset Bundles: matches then included resources, ``total``, ``self`` and ``next`` links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fhir.resources.R4B.bundle import Bundle
from flask import request

from psc_idp.directory.fhir import organization, practitioner, practitioner_role
from psc_idp.directory.fhir.practitioner_role import Role
from psc_idp.directory.fhir.search import Page
from psc_idp.directory.models import Activity, Practitioner


def to_fhir(item: Any) -> Any:
    """The FHIR model of a practitioner, a role or a structure (an activity)."""
    if isinstance(item, Practitioner):
        return practitioner.to_fhir(item)
    if isinstance(item, Role):
        return practitioner_role.to_fhir(item)
    if isinstance(item, Activity):
        return organization.to_fhir(item)
    raise TypeError(f"not a directory resource: {item!r}")


def base_url() -> str:
    """``…/fhir/v1``, as the client called it."""
    return request.base_url.rsplit("/", 1)[0]


def _page_url(cursor: str) -> str:
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "_page"]
    return f"{request.base_url}?{urlencode([*pairs, ('_page', cursor)])}"


def _entry(resource: Any, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url()}/{resource.get_resource_type()}/{resource.id}",
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(page: Page) -> Bundle:
    links = [{"relation": "self", "url": request.url}]
    if page.next_cursor is not None:
        links.append({"relation": "next", "url": _page_url(page.next_cursor)})
    entries = [_entry(to_fhir(item), "match") for item in page.matches]
    entries += [_entry(to_fhir(item), "include") for item in page.includes]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": page.total,
            "link": links,
            "entry": entries,
        }
    )
