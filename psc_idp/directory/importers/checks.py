"""Row-level checks shared by every format: national id, codes, forbidden characters."""

from __future__ import annotations

import re
from datetime import date, datetime

from psc_idp.directory import codes
from psc_idp.directory.importers.records import Rejected
from psc_idp.directory.national_id import InvalidNationalId, luhn_is_valid, parse_national_id

# Nomenclatures complete enough to refuse an unknown code. Sectors, savoir-faire, genres…
# have many more codes than psc-idp lists: they are imported as they are.
_PROFESSIONS = {**codes.PROFESSIONS, **codes.STAFF_PROFESSIONS}
_CLOSED = {
    "civility": ("civilité", codes.CIVILITES),
    "civilite_exercice": ("civilité d'exercice", codes.CIVILITES_EXERCICE),
    "category": ("catégorie professionnelle", codes.CATEGORIES),
    "mode": ("mode d'exercice", codes.MODES),
    "sex": ("sexe", {"M": "", "F": ""}),
}


def national_id(value: str) -> str:
    if len(value) == 12 and value.isdigit() and value[0] == "8" and luhn_is_valid(value[1:]):
        return value  # the common case, without the general parser's normalisation
    try:
        return parse_national_id(value).value
    except InvalidNationalId as exc:
        raise Rejected(str(exc)) from None


def profession(value: str) -> None:
    if not value:
        raise Rejected("code profession absent")
    if value not in _PROFESSIONS:
        raise Rejected(f"code profession inconnu « {value[:20]} » (TRE_G15)")


def closed_code(name: str, value: str | None) -> None:
    """An empty value passes; a non-empty one must belong to its nomenclature."""
    if value and value not in _CLOSED[name][1]:
        raise Rejected(f"code {_CLOSED[name][0]} inconnu « {value[:20]} »")


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def clean(line: str) -> None:
    # PostgreSQL refuses NUL in text; control characters have no place in a directory row.
    if _CONTROL.search(line):
        raise Rejected("caractère de contrôle interdit dans la ligne")


def birth_date(value: str) -> date | None:
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007  (a date, no time)
        except ValueError:
            continue
    raise Rejected(f"date de naissance invalide « {value[:20]} » (JJ/MM/AAAA attendu)")


def other_ids(value: str) -> list[tuple[str, str, int]]:
    """``id,origine,qualite;…`` (PSC's extract) as (identifiant, origine, qualite) tuples."""
    found: list[tuple[str, str, int]] = []
    for part in filter(None, (piece.strip() for piece in value.split(";"))):
        pieces = [piece.strip() for piece in part.split(",")]
        if len(pieces) != 3 or not pieces[0] or not pieces[2].isdigit():
            raise Rejected(f"autre identifiant illisible « {part[:40]} » (id,origine,qualite)")
        if len(pieces[0]) > 64 or len(pieces[1]) > 32:
            raise Rejected("autre identifiant trop long")
        entry = (pieces[0], pieces[1], int(pieces[2]))
        if entry not in found:
            found.append(entry)
    return found
