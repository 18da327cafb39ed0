"""One clock for the whole server: aware UTC datetimes in code, epoch seconds in tokens.

The database stores naive UTC (``timestamp without time zone`` on PostgreSQL, text on SQLite);
``UTCDateTime`` converts at the boundary, so no code ever holds a naive datetime whose
``timestamp()`` would be read in the host's local time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

#: Where pages show times (PSC's users are in France, whatever the host's timezone).
DISPLAY_ZONE = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def epoch() -> int:
    return int(time.time())


def to_epoch(moment: datetime) -> int:
    return int(_aware(moment).timestamp())


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def local_display(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A moment as French pages show it: Europe/Paris wall-clock time."""
    if moment is None:
        return ""
    return _aware(moment).astimezone(DISPLAY_ZONE).strftime(fmt)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: use psc_idp.timeutil.now() (aware UTC)")
    return moment


class UTCDateTime(TypeDecorator):
    """A ``DateTime`` column holding UTC: aware values in, aware values out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return _aware(value).astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as JSON APIs give times."""
    return _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
