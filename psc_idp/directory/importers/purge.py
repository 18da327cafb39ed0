"""Directory import runs past the audit horizon (``psc-idp purge``).

A run is a record of one import, kept ``audit_retention`` after it started; a run still marked
running that long after (crashed, never resumed) goes too. The persons a run has seen are kept
only while it runs (the run removes them when done; the purge catches any left over)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from psc_idp.config import Settings
from psc_idp.directory.importers.models import ImportRun, ImportSeen, RunStatus
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_imports(settings: Settings) -> dict[str, int]:
    cutoff = now() - timedelta(seconds=settings.audit_retention)
    old = select(ImportRun.id).where(ImportRun.started_at < cutoff)
    done = select(ImportRun.id).where(ImportRun.status == RunStatus.done)
    seen = delete_where(ImportSeen, or_(ImportSeen.run_id.in_(old), ImportSeen.run_id.in_(done)))
    return {
        "import_seen": seen,
        "import_runs": delete_where(ImportRun, ImportRun.started_at < cutoff),
    }
