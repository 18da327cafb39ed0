"""National identifiers of persons (idNat_PS), as PSC and the CPS cards carry them.

The first character is the type of identifier, the rest the identifier in its register:

- ``8`` + RPPS (11 digits, the last one a Luhn key over the 11 digits), e.g. ``810100022408``;
- ``0`` + ADELI (9 characters, ``2A``/``2B`` for Corsica), e.g. ``0012600631``;
- ``3`` + FINESS (9 characters) + ``/`` + internal id: staff cards of an establishment,
  e.g. ``30B0057881/CPET0002``;
- ``1``, ``4``, ``5``, ``6``: other registers (SIREN, SIRET, RPPS cabinet…), accepted loosely.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_LENGTH = 64  # column size; also bounds the work done on hostile input

_RPPS = re.compile(r"8\d{11}")
_ADELI = re.compile(r"0(?:\d{2}|2[AB])\d{7}")
_STAFF = re.compile(r"3[0-9A-Z]{9}/[0-9A-Z][0-9A-Z._-]*")
_OTHER = re.compile(r"[1456][0-9A-Z]+(?:/[0-9A-Z][0-9A-Z._-]*)?")

#: Register of each type of identifier (``origine`` of the ``otherIds`` claim).
ORIGIN_BY_TYPE = {
    "8": "RPPS",
    "0": "ADELI",
    "1": "FINESS",
    "3": "FINESS",
    "4": "SIREN",
    "5": "SIRET",
    "6": "RPPS",
}


class InvalidNationalId(ValueError):
    """The value is not a national identifier PSC would accept."""


class NationalId(NamedTuple):
    value: str  # normalised, e.g. "899700218896"
    id_type: str  # first character, e.g. "8"
    origin: str  # register, e.g. "RPPS"
    local_id: str  # identifier inside its register, e.g. "99700218896"


def luhn_is_valid(digits: str) -> bool:
    """Luhn check over a string of digits (the key is the last digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def rpps_luhn_key(first10: str) -> str:
    """The Luhn key completing a 10-digit RPPS prefix (``"9970021889"`` → ``"6"``)."""
    if not re.fullmatch(r"\d{10}", first10 or ""):
        raise ValueError("rpps_luhn_key attend exactement 10 chiffres")
    for key in "0123456789":
        if luhn_is_valid(first10 + key):
            return key
    raise AssertionError("unreachable: one Luhn key always exists")


_TOO_LONG = f"Identifiant national trop long ({MAX_LENGTH} caractères au plus)."


def _shown(value: str) -> str:
    # Echo at most a short prefix: messages may reach logs and web pages.
    return value if len(value) <= 20 else value[:20] + "…"


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidNationalId("L'identifiant national doit être une chaîne de caractères.")
    if len(value) > 4 * MAX_LENGTH:
        raise InvalidNationalId(_TOO_LONG)
    # Card ids are upper case; people paste ids with spaces ("8 99700 218896").
    compact = re.sub(r"\s+", "", value).upper()
    if not compact:
        raise InvalidNationalId("L'identifiant national est vide.")
    if len(compact) > MAX_LENGTH:
        raise InvalidNationalId(_TOO_LONG)
    return compact


def _check_rpps(value: str) -> None:
    if not _RPPS.fullmatch(value):
        raise InvalidNationalId(
            f"Identifiant RPPS invalide « {_shown(value)} » : 8 suivi des 11 chiffres du numéro "
            "RPPS attendu (12 chiffres)."
        )
    if not luhn_is_valid(value[1:]):
        raise InvalidNationalId(
            f"Identifiant RPPS invalide « {value} » : la clé de contrôle (dernier chiffre) "
            "ne correspond pas."
        )


_FORMATS = {
    "0": (_ADELI, "0 suivi du numéro ADELI à 9 caractères attendu (ex. 0012600631)."),
    "3": (
        _STAFF,
        "3 + FINESS (9 caractères) + / + identifiant interne attendu (ex. 30B0057881/CPET0002).",
    ),
}


def parse_national_id(value: object) -> NationalId:
    """Validate and split a national id; raise :class:`InvalidNationalId` if malformed."""
    compact = _normalise(value)
    id_type = compact[0]
    if id_type == "8":
        _check_rpps(compact)
    elif id_type in _FORMATS:
        pattern, expected = _FORMATS[id_type]
        if not pattern.fullmatch(compact):
            shown = _shown(compact)
            raise InvalidNationalId(f"Identifiant national invalide « {shown} » : {expected}")
    elif id_type in "1456":
        if not _OTHER.fullmatch(compact):
            raise InvalidNationalId(
                f"Identifiant national invalide « {_shown(compact)} » : "
                "seuls chiffres, lettres et un « / » sont admis."
            )
    else:
        raise InvalidNationalId(
            f"Type d'identifiant inconnu « {_shown(id_type)} » : un identifiant national commence "
            "par 8 (RPPS), 0 (ADELI), 3 (personnel d'établissement), 1, 4, 5 ou 6."
        )
    return NationalId(compact, id_type, ORIGIN_BY_TYPE[id_type], compact[1:])


def validate_national_id(value: str) -> str:
    """The normalised national id, or :class:`InvalidNationalId` with a French message."""
    return parse_national_id(value).value


def origin_of(national_id: str) -> str:
    """Register a (valid) national id comes from, e.g. ``"RPPS"`` for ``8…``."""
    return ORIGIN_BY_TYPE.get(national_id[:1], "")
