"""Sectoral identity store, shaped like RPPS / Annuaire Santé: who the professionals are,
what they practise and where, and the UserInfo document PSC derives from it."""

from __future__ import annotations

from psc_idp.directory.lookup import find_practitioner, search_practitioners, summary
from psc_idp.directory.models import Activity, Exercice, OtherId, Practitioner
from psc_idp.directory.national_id import (
    InvalidNationalId,
    parse_national_id,
    rpps_luhn_key,
    validate_national_id,
)
from psc_idp.directory.realm_io import (
    export_practitioners,
    practitioner_to_dict,
    upsert_practitioners,
)
from psc_idp.directory.userinfo import build_userinfo

__all__ = [
    "Activity",
    "Exercice",
    "InvalidNationalId",
    "OtherId",
    "Practitioner",
    "build_userinfo",
    "export_practitioners",
    "find_practitioner",
    "parse_national_id",
    "practitioner_to_dict",
    "rpps_luhn_key",
    "search_practitioners",
    "summary",
    "upsert_practitioners",
    "validate_national_id",
]
