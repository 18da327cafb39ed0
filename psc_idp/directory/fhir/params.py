"""Search parameters as FHIR R4 defines them (§3.1.1 search): parsing only, no queries.

A parameter given twice is ANDed; a comma inside a token value ORs. Anything unknown or
malformed is a 400 OperationOutcome (psc-idp is strict: a misspelt parameter silently
ignored would return the whole directory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from werkzeug.datastructures import MultiDict

from psc_idp.directory.fhir.errors import FhirError

#: Parameters that every search accepts.
COMMON = frozenset({"_count", "_page", "_format", "_lastUpdated", "_id"})
MAX_VALUE_LENGTH = 200
_MAX_ALTERNATIVES = 50
_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system
    code: str


def reject(message: str) -> FhirError:
    return FhirError(400, message)


def check_names(args: MultiDict[str, str], allowed: frozenset[str]) -> None:
    for name, value in args.items(multi=True):
        base = name.partition(":")[0]
        if base not in allowed | COMMON:
            raise reject(f"Unknown search parameter: {name}")
        if len(value) > MAX_VALUE_LENGTH:
            raise reject(f"Value of {name} is too long")
    for value in args.getlist("_format"):
        if value not in _FORMATS:
            raise reject("Only JSON is served (_format)")


def modifier(
    args: MultiDict[str, str], name: str, allowed: tuple[str, ...]
) -> list[tuple[str, str]]:
    """``(modifier, value)`` for each occurrence of ``name`` (``name:modifier`` included)."""
    found = []
    for key, value in args.items(multi=True):
        base, _, mod = key.partition(":")
        if base != name:
            continue
        if mod not in allowed:
            raise reject(f"Unsupported modifier: {key}")
        found.append((mod, value))
    return found


def tokens(value: str, name: str) -> list[Token]:
    """``system|code``, ``|code`` (no system), ``code`` (any system); comma-separated."""
    parts = value.split(",")
    if len(parts) > _MAX_ALTERNATIVES:
        raise reject(f"Too many values for {name}")
    found = []
    for part in parts:
        system, bar, code = part.partition("|")
        if not bar:
            system, code = None, system
        if not code.strip():
            raise reject(f"Empty value for {name}")
        found.append(Token(system, code.strip()))
    return found


def string(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise reject(f"Empty value for {name}")
    return value


def boolean(value: str, name: str) -> bool:
    if value not in ("true", "false"):
        raise reject(f"{name} must be true or false")
    return value == "true"


def reference(value: str, name: str, resource_type: str) -> str:
    """The id in ``Type/id``, ``id`` or an absolute URL ending in ``Type/id``."""
    head, _, tail = value.rpartition("/")
    if head and not head.endswith(resource_type):
        raise reject(f"{name} must reference a {resource_type}")
    if not tail:
        raise reject(f"Empty value for {name}")
    return tail


def count(args: MultiDict[str, str], default: int, maximum: int) -> int:
    values = args.getlist("_count")
    if not values:
        return default
    if len(values) > 1 or not re.fullmatch(r"[0-9]{1,6}", values[-1]):
        raise reject("_count must be a single non-negative integer")
    return min(int(values[-1]), maximum)


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?"
)


@dataclass(frozen=True)
class DateRange:
    """``prefix`` applied to the interval ``[start, end)`` the value's precision covers."""

    prefix: str
    start: datetime
    end: datetime


def date(value: str, name: str) -> DateRange:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise reject(f"Unsupported prefix for {name}: {prefix}")
    match = _DATE.fullmatch(text)
    if not match:
        raise reject(f"{name} must be a FHIR date or dateTime")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        if hour is not None and zone is None:
            raise ValueError("a time needs a time zone")
        start = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            start -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        end = _end(start, month, day, minute, second)
    except (ValueError, OverflowError):
        raise reject(f"{name} is not a valid date") from None
    return DateRange(prefix, start, end)


def _end(
    start: datetime, month: str | None, day: str | None, minute: str | None, second: str | None
) -> datetime:
    """End of the interval a value of this precision stands for."""
    if second is not None:
        return start + timedelta(seconds=1)
    if minute is not None:
        return start + timedelta(minutes=1)
    if day is not None:
        return start + timedelta(days=1)
    if month is not None:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)
