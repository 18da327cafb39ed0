"""Row-level checks shared by every format: national id, codes, forbidden characters."""

from __future__ import annotations

import re
from datetime import date, datetime
from operator import itemgetter

from psc_idp.directory import codes, nomenclatures
from psc_idp.directory.importers.records import Rejected
from psc_idp.directory.models import ACTIVITY_FIELDS, ADDRESS_FIELDS, EXERCICE_FIELDS
from psc_idp.directory.national_id import (
    ORIGIN_BY_TYPE,
    InvalidNationalId,
    luhn_is_valid,
    parse_national_id,
)

_PROFESSIONS = {**codes.PROFESSIONS, **codes.STAFF_PROFESSIONS}
#: Coded fields and their nomenclature: a non-empty value outside it is a reject.
_CLOSED = {
    "civility": ("civilité", codes.CIVILITES, ""),
    "civilite_exercice": ("civilité d'exercice", codes.CIVILITES_EXERCICE, ""),
    "category": ("catégorie professionnelle", codes.CATEGORIES, "TRE_R09"),
    "mode": ("mode d'exercice", codes.MODES, "TRE_R23"),
    "sex": ("sexe", {"M": "", "F": ""}, ""),
    "savoir_faire_type": ("type de savoir-faire", nomenclatures.SAVOIR_FAIRE_TYPES, "TRE_R04"),
    "sector": ("secteur d'activité", nomenclatures.SECTORS, "TRE_R02"),
    "pharmacist_section": (
        "section tableau pharmaciens",
        nomenclatures.PHARMACIST_SECTIONS,
        "TRE_G05",
    ),
    "role": ("rôle", nomenclatures.ROLES, "TRE_R21"),
    "genre": ("genre d'activité", nomenclatures.GENRES, "TRE_R22"),
}
# Address codes (INSEE, TRE_R35) are checked for their form: their lists are long and change
# every year (communes), and a structure abroad has codes of its own country.
_SHAPES = {
    "code_type_voie": ("code type de voie", re.compile(r"[A-Z]{1,4}")),
    "code_commune": ("code commune", re.compile(r"[0-9][0-9AB][0-9]{3}")),
    "code_pays": ("code pays", re.compile(r"[0-9]{5}")),
    "code_departement": ("code département", re.compile(r"[0-9]{2}|2[AB]|9[78][0-9]")),
}
_ACTIVITY_COLUMNS = (*ACTIVITY_FIELDS, *ADDRESS_FIELDS)
_EXERCICE_CODES = tuple(
    (EXERCICE_FIELDS.index(name), name) for name in ("category", "civilite_exercice")
)
_SF_TYPE = EXERCICE_FIELDS.index("savoir_faire_type")
_SF = EXERCICE_FIELDS.index("savoir_faire")
_ACTIVITY_CODES = tuple(
    (_ACTIVITY_COLUMNS.index(name), name)
    for name in ("mode", "sector", "pharmacist_section", "role", "genre")
)
_ACTIVITY_SHAPES = tuple((_ACTIVITY_COLUMNS.index(name), name) for name in _SHAPES)


def national_id(value: str, verify: bool = True) -> str:
    """The normalised national id; ``verify=False``: one already found valid."""
    if (
        len(value) == 12
        and value.isdigit()
        and value[0] == "8"
        and (not verify or luhn_is_valid(value[1:]))
    ):
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
        what, _, nomenclature = _CLOSED[name]
        where = f" ({nomenclature})" if nomenclature else ""
        raise Rejected(f"code {what} inconnu « {value[:20]} »{where}")


def savoir_faire(kind: str, code: str) -> None:
    """A savoir-faire comes with its type, and belongs to that type's nomenclature."""
    if not kind and not code:
        return
    if not code:
        raise Rejected(f"type de savoir-faire « {kind[:20]} » sans code savoir-faire")
    if not kind:
        raise Rejected(f"code savoir-faire « {code[:20]} » sans type de savoir-faire")
    closed_code("savoir_faire_type", kind)
    if code not in nomenclatures.SAVOIR_FAIRE:
        raise Rejected(f"code savoir-faire inconnu « {code[:20]} » (JDV_J107)")
    listed = nomenclatures.SAVOIR_FAIRE_BY_TYPE.get(kind)
    if listed is not None and code not in listed:
        raise Rejected(f"code savoir-faire « {code[:20]} » d'un autre type que « {kind} »")


#: Combinations of codes and address codes already found good: most rows of a file repeat a
#: few hundred of them, so a row is checked by one set lookup per group of fields. Bounded,
#: so that memory stays constant whatever the file (past the bound, rows are checked in full).
_GOOD_LIMIT = 50_000
_good_exercice_codes: set[tuple[str, ...]] = set()
_good_activity_codes: set[tuple[str, ...]] = set()
_good_shapes: tuple[set[str], ...] = tuple(set() for _ in _ACTIVITY_SHAPES)
_exercice_codes = itemgetter(0, *(index for index, _ in _EXERCICE_CODES), _SF_TYPE, _SF)
_activity_codes = itemgetter(*(index for index, _ in _ACTIVITY_CODES))


def _remember(good: set, value: object) -> None:
    if len(good) < _GOOD_LIMIT:
        good.add(value)


def exercice_codes(exercice: tuple[str, ...]) -> None:
    """Every coded field of an exercice tuple (in ``EXERCICE_FIELDS`` order)."""
    key = _exercice_codes(exercice)
    if key in _good_exercice_codes:
        return
    profession(exercice[0])
    for index, name in _EXERCICE_CODES:
        closed_code(name, exercice[index])
    savoir_faire(exercice[_SF_TYPE], exercice[_SF])
    _remember(_good_exercice_codes, key)


def activity_codes(activity: tuple[str, ...]) -> None:
    """Every coded field of an activity tuple (activity then address columns)."""
    key = _activity_codes(activity)
    if key not in _good_activity_codes:
        for index, name in _ACTIVITY_CODES:
            closed_code(name, activity[index])
        _remember(_good_activity_codes, key)
    for (index, name), good in zip(_ACTIVITY_SHAPES, _good_shapes, strict=True):
        value = activity[index]
        if value and value not in good:
            if not _SHAPES[name][1].fullmatch(value):
                raise Rejected(f"{_SHAPES[name][0]} invalide « {value[:20]} »")
            _remember(good, value)


def id_type(kind: str, local: str, written: str) -> None:
    """``Type d'identifiant PP`` and ``Identifiant PP`` agree with the national id."""
    if kind and (kind not in ORIGIN_BY_TYPE or not written.startswith(kind)):
        raise Rejected(
            f"type d'identifiant PP « {kind[:20]} » incohérent avec l'identification nationale"
        )
    if local and local.upper() != written[1:].upper():
        raise Rejected(
            f"identifiant PP « {local[:20]} » incohérent avec l'identification nationale"
        )


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
