"""One import of one file, batch by batch, resumable.

The guarantee, precisely:

- A file whose *structure* is wrong (missing, empty, unknown header, header not UTF-8, corrupt
  or ambiguous zip, JSON that does not parse) is refused before anything is written.
- Rows are applied in batches of whole persons, one transaction each; the run records the
  position of the first row not yet applied in the same transaction. After a crash, the same
  command on the same file resumes there: no person is written twice, none is lost.
- A row that cannot be imported (national id, Luhn key, unknown code, column count, encoding,
  forbidden characters, value too long) goes to the rejects file with its line number and the
  reason; the other rows of the file are imported.
- ``--full`` deactivates the imported practitioners absent from the file only once every batch
  has been applied, in the run's last transaction (and never when no row was accepted).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from psc_idp.directory.importers import bulk, fhir, pipeline
from psc_idp.directory.importers.models import ImportRun, RunStatus
from psc_idp.directory.importers.records import RejectedItem
from psc_idp.directory.importers.rejects import RejectsFile
from psc_idp.directory.importers.source import ImportFileError, Source, open_source
from psc_idp.directory.importers.tabular import RowReader
from psc_idp.directory.importers.tuning import import_settings
from psc_idp.directory.importers.upsert import (
    Item,
    apply_batch,
    bulk_settings,
    deactivate_absent,
    finish_seen,
    refresh_statistics,
    stored_practitioners,
)
from psc_idp.extensions import db
from psc_idp.timeutil import now

DEFAULT_BATCH_SIZE = 2000  # persons per transaction
END = 2**31 - 1  # next_position once the whole file is applied

#: Called with (rows read, bytes read, total bytes) as the import goes.
Progress = Callable[[int, int, int], None]


@dataclass
class ImportSummary:
    run_id: int
    source: str
    rows: int
    created: int
    updated: int
    unchanged: int
    deactivated: int
    rejected: int
    merged: int
    resumed_at: int | None  # line the run resumed from, if it did
    rejects_path: Path


def items(
    source: Source,
    progress: Progress | None = None,
    *,
    parallel: bool = False,
    start: int = 0,
) -> Iterator[Item | RejectedItem]:
    """What the file holds, person by person; ``parallel``: read by a second process (a
    tabular file), which leaves alone the items before ``start``."""
    if source.layout is not None:
        if parallel:
            return pipeline.read_in_parallel(source, pipeline.shareable_url(db.engine), start)
        return RowReader(source.layout).groups(source.lines())
    # FHIR: a first pass indexes the roles and organizations (and proves the file parses)
    # before any write, the second streams the practitioners.
    return fhir.groups(source, progress)


def _start_run(source: Source, full: bool) -> tuple[ImportRun, bool]:
    """The unfinished run of this very file (resume), or a new one."""
    unfinished = db.session.scalars(
        select(ImportRun)
        .where(
            ImportRun.file_sha256 == source.sha256,
            ImportRun.full.is_(full),
            ImportRun.status == RunStatus.running,
        )
        .order_by(ImportRun.id.desc())
    ).first()
    if unfinished is not None:
        return unfinished, True
    run = ImportRun(
        file_sha256=source.sha256,
        file_name=source.path.name[:255],
        file_format=source.format,
        full=full,
        next_position=0,
        rows=0,
        created=0,
        updated=0,
        unchanged=0,
        deactivated=0,
        rejected=0,
    )
    db.session.add(run)
    db.session.commit()
    return run, False


class _Batcher:
    def __init__(self, run: ImportRun, size: int) -> None:
        self.run, self.size = run, size
        self.batch: dict[str, Item] = {}
        self.rejects: RejectsFile | None = None
        self.rows = self.rejected = self.merged = 0
        # Statistics are refreshed each time the practitioners stored have doubled: a
        # re-import, which creates nobody, runs on the ones it found.
        self.analysed = stored_practitioners(db.session)
        self.created = 0
        self.deferred = False  # the child tables' indexes are to be built at the end

    def _restore_indexes(self) -> None:
        bulk.restore_indexes(db.session)
        self.deferred = False

    def add(self, person: Item) -> None:
        if len(self.batch) >= self.size and person.national_id not in self.batch:
            self.flush(person.position)
        known = self.batch.get(person.national_id)
        if known is None:
            self.batch[person.national_id] = person
        else:
            known.absorb(person)
        self.rows += person.rows

    def flush(self, next_position: int) -> None:
        counts = None
        bulk_settings(db.session)
        if self.batch:
            assert self.rejects is not None
            restore = self._restore_indexes if self.deferred else None
            counts = apply_batch(db.session, self.run.id, self.batch, self.rejects.write, restore)
            self.created += counts.created
        run = self.run
        if counts is not None:
            run.created += counts.created
            run.updated += counts.updated
            run.unchanged += counts.unchanged
            run.rejected += counts.rejected
            self.merged += counts.merged
        run.rows += self.rows - (counts.rejected if counts else 0)  # rows accepted
        run.rejected += self.rejected
        run.next_position = next_position
        if self.rejects is not None:
            self.rejects.sync()  # the rejects before next_position survive the commit
        db.session.commit()
        self.batch, self.rows, self.rejected = {}, 0, 0
        if self.created and self.created >= self.analysed:
            refresh_statistics(db.session, lookups_only=True)
            self.analysed += self.created
            self.created = 0


def _finish(run: ImportRun) -> None:
    bulk_settings(db.session)
    accepted = run.created + run.updated + run.unchanged
    if run.full and accepted:
        run.deactivated = deactivate_absent(db.session, run.id)
    finish_seen(db.session, run.id)
    if bulk.indexes_missing(db.session):
        bulk.restore_indexes(db.session)
    run.status, run.finished_at = RunStatus.done, now()
    db.session.commit()
    if run.created or run.updated or run.deactivated:
        refresh_statistics(db.session)  # the directory is served on what the whole file made


def run_import(
    path: Path,
    *,
    wanted: str = "auto",
    full: bool = False,
    rejects_path: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import ``path``; raise ``ImportFileError`` (nothing written) if it cannot be read.
    ``parallel``: read a tabular file in a second process (``None``: if it is worth it)."""
    source = open_source(path, wanted)
    if parallel is None:
        parallel = pipeline.worth_it(source, pipeline.shareable_url(db.engine))
    # FHIR: its first pass runs here, so that a file which does not parse writes nothing.
    stream = items(source, progress) if source.layout is None else None
    rejects_path = rejects_path or path.with_name(path.name + ".rejets.txt")
    if not os.access(rejects_path.parent, os.W_OK):
        raise ImportFileError(f"Impossible d'écrire le fichier des rejets {rejects_path}.")
    with import_settings(db.engine):
        return _run(source, stream, parallel, full, rejects_path, batch_size, progress)


def _run(
    source: Source,
    stream: Iterator[Item | RejectedItem] | None,
    parallel: bool,
    full: bool,
    rejects_path: Path,
    batch_size: int,
    progress: Progress | None,
) -> ImportSummary:
    run, resumed = _start_run(source, full)
    start = run.next_position if resumed else 0
    if not resumed and bulk.directory_is_empty(db.session):
        bulk.defer_indexes(db.session)
    batcher = _Batcher(run, max(1, batch_size))
    batcher.deferred = bulk.indexes_missing(db.session)
    if stream is None:
        stream = items(source, progress, parallel=parallel, start=start)
    read = items_read = 0
    try:
        with RejectsFile(rejects_path, keep_before=start if resumed else None) as rejects:
            batcher.rejects = rejects
            for item in stream:
                read += item.rows if not isinstance(item, RejectedItem) else 1
                items_read += 1
                if progress is not None and items_read % 256 == 0:
                    progress(read, source.bytes_read, source.size)
                if item.position < start:
                    continue
                if isinstance(item, RejectedItem):
                    rejects.write(item)
                    batcher.rejected += 1
                else:
                    batcher.add(item)
            batcher.flush(END)
        _finish(run)
    except BaseException:
        db.session.rollback()
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # a reading process stops now, not when the generator is collected
        raise
    if progress is not None:
        progress(read, source.size, source.size)
    return ImportSummary(
        run.id,
        source.description,
        run.rows,
        run.created,
        run.updated,
        run.unchanged,
        run.deactivated,
        run.rejected,
        batcher.merged,
        start if resumed else None,
        rejects_path,
    )
