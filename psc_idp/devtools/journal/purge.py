"""``psc-idp purge``: journal entries older than ``PSC_REQUEST_JOURNAL_MAX_AGE``."""

from __future__ import annotations

from datetime import timedelta

from psc_idp.config import Settings
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_journal(settings: Settings) -> dict[str, int]:
    horizon = now() - timedelta(seconds=settings.request_journal_max_age)
    return {"journal_entries": delete_where(JournalEntry, JournalEntry.at < horizon)}
