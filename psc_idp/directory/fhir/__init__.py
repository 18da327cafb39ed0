"""The Annuaire Santé FHIR API, read only (``/fhir/v1``): Practitioner, PractitionerRole and
Organization built from the directory tables with ``fhir.resources`` models."""

from __future__ import annotations

from psc_idp.directory.fhir.views import init_app

__all__ = ["init_app"]
