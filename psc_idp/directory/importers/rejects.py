"""The rejects file: one line per row that was not imported, with its line number and why.

Pipe-separated like the input: ``Ligne|Identification nationale PP|Motif``. When a run resumes,
the lines already recorded before the resume position are kept and the rest rewritten, so a
reject is listed once whatever the number of crashes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType
from typing import TextIO

from psc_idp.directory.importers.records import RejectedItem

HEADER = "Ligne|Identification nationale PP|Motif\n"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f|]")


class RejectsFile:
    def __init__(self, path: Path, keep_before: int | None = None) -> None:
        self.path, self.keep_before = path, keep_before
        self.handle: TextIO | None = None
        self.unsynced = False  # lines written since the last sync

    def __enter__(self) -> RejectsFile:
        kept: list[str] = []
        if self.keep_before is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]:
                number = line.split("|", 1)[0]
                if number.isdigit() and int(number) < self.keep_before:
                    kept.append(line)
        self.handle = self.path.open("w", encoding="utf-8")
        self.handle.write(HEADER)
        self.handle.writelines(kept)
        self.unsynced = True
        return self

    def write(self, item: RejectedItem) -> None:
        assert self.handle is not None
        national_id = _UNPRINTABLE.sub("?", item.national_id)
        self.handle.write(f"{item.position}|{national_id}|{_UNPRINTABLE.sub(' ', item.reason)}\n")
        self.unsynced = True

    def sync(self) -> None:
        """On disk before the batch commits: a resume keeps what lies before its position."""
        if self.handle is not None and self.unsynced:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.unsynced = False

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.handle is not None:
            self.handle.close()
