"""Debugger runs past their hour (``psc-idp purge``); each run also ends on its own then."""

from __future__ import annotations

from psc_idp.config import Settings
from psc_idp.devtools.debugger.models import DebuggerRun
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def purge_debugger(settings: Settings) -> dict[str, int]:
    return {"debugger_runs": delete_where(DebuggerRun, DebuggerRun.expires_at < now())}
