"""A tabular file read and checked in a second process while this one writes to the database.

On two cores, parsing a row (splitting, checking every code, building the person) and writing
it cost about the same: run side by side, an import takes about the time of the slower half.
The reading process sends chunks of groups through a pipe (it waits while the pipe is full, so
memory stays constant whatever the file), each group with its digest and, unless the database
already holds that very digest for the person, the verdict of every check on each of its rows.
Only the rows travel, not the persons built from them: pickling those cost more than building
them again on the writing side, where the rows found good are read without their checks. The
reading process only reads the database, and what it sends is precomputed work, not decisions:
the writing side applies each batch exactly as it would have without it (a person found changed
after all is checked there).

A reading process that fails or dies fails the import with :class:`ImportWorkerError` (the
batches already committed stay, and the same command resumes); it never leaves it waiting.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from psc_idp.directory.importers.records import RejectedItem
from psc_idp.directory.importers.source import Source
from psc_idp.directory.importers.tabular import RawGroup, RowReader
from psc_idp.directory.importers.upsert import ids_relation, where_in

CHUNK = 1000  # groups per message
POLL_SECONDS = 1.0  # how often a silent reader is checked for life
MIN_BYTES = 8 << 20  # smaller files are read in the writing process (no start-up cost)

_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class ImportWorkerError(RuntimeError):
    """The reading process failed; the message is French and says why."""


def worth_it(source: Source, database_url: str | None) -> bool:
    """Two processes help a large tabular file when a core is free for the second one. They
    cost a third more CPU in all (each row is split twice, and travels between them): on a
    machine already busy, measured, they made the import slower, not faster."""
    cores = multiprocessing.cpu_count() or 1
    return (
        source.layout is not None
        and source.size >= MIN_BYTES
        and cores > 1
        and os.getloadavg()[0] < cores - 1
        and database_url is not None
    )


def shareable_url(engine: Engine) -> str | None:
    """The database URL another process can open (not an in-memory SQLite database)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _stored_digests(engine: Engine | None, ids: list[str]) -> dict[str, str]:
    """Digest of each active person of ``ids`` the database holds (as the writer's check)."""
    if engine is None or not ids:
        return {}
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            query = (
                "SELECT p.national_id, p.content_hash FROM "
                + ids_relation("dir_practitioner", "national_id, content_hash, active")
                + " WHERE p.active AND p.content_hash IS NOT NULL"
            )
            return dict(connection.exec_driver_sql(query, (ids,)).all())
        query = (
            "SELECT national_id, content_hash FROM dir_practitioner "
            "WHERE active AND content_hash IS NOT NULL AND national_id"
        )
        return dict(where_in(connection, query, ids))


def _prepare(
    chunk: list[RawGroup | RejectedItem], reader: RowReader, engine: Engine | None, start: int
) -> None:
    groups = [item for item in chunk if isinstance(item, RawGroup) and item.position >= start]
    stored = _stored_digests(engine, [group.national_id for group in groups])
    for group in groups:
        if stored.get(group.national_id) != group.digest():
            group.reader = reader
            group.check()


class _Orphaned(Exception):
    """The writing process is gone (killed): nobody will read what this one sends."""


def _send(out: Any, parent: int, message: tuple) -> None:
    """One message, whole (``send`` waits while the writing process has not read the
    previous ones: the pipe's buffer bounds what is in flight)."""
    if os.getppid() != parent:
        raise _Orphaned
    try:
        out.send(message)
    except (BrokenPipeError, ConnectionResetError):
        raise _Orphaned from None  # its reading end closed: the writing process is gone


def _read(
    source: Source, database_url: str | None, start: int, out: Any, theirs: Any, parent: int
) -> None:
    """The reading process: every item of the file, in chunks, then ``("end", …)``. It ends
    at its next message if the writing process dies (killed, it could not say so)."""
    theirs.close()  # the writing process's end: once it is gone, sending fails at once
    try:
        assert source.layout is not None
        reader = RowReader(source.layout)
        engine = create_engine(database_url, pool_size=1) if database_url else None
        chunk: list[RawGroup | RejectedItem] = []
        for item in reader.groups(source.lines()):
            chunk.append(item)
            if len(chunk) >= CHUNK:
                _prepare(chunk, reader, engine, start)
                _send(out, parent, ("items", chunk, source.bytes_read))
                chunk = []
        _prepare(chunk, reader, engine, start)
        _send(out, parent, ("items", chunk, source.bytes_read))
        _send(out, parent, ("end", None, source.bytes_read))
    except _Orphaned:
        os._exit(1)  # no one to tell
    except BaseException as exc:  # noqa: BLE001  (reported to the writing process, then exit)
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        place = f" ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
        try:
            _send(out, parent, ("error", f"{type(exc).__name__}: {exc}{place}", source.bytes_read))
        except _Orphaned:
            os._exit(1)
        raise SystemExit(1) from None


def read_in_parallel(
    source: Source, database_url: str | None, start: int = 0
) -> Iterator[RawGroup | RejectedItem]:
    """The items of ``source`` as ``RowReader.groups`` yields them, read by another process;
    ``source.bytes_read`` follows the reader. Items before ``start`` come unprepared."""
    context = multiprocessing.get_context(_START_METHOD)
    # A one-way pipe, this process keeping only its reading end: a reading process that dies
    # half-way through a message ends the pipe (EOF) instead of leaving a read waiting forever.
    messages, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_read,
        args=(source, database_url, start, sender, messages, os.getpid()),
        name="psc-idp-lecture",
    )
    process.start()
    sender.close()
    reader = RowReader(source.layout) if source.layout is not None else None
    try:
        while True:
            kind, payload, bytes_read = _receive(messages, process)
            source.bytes_read = bytes_read
            if kind == "error":
                raise ImportWorkerError(f"la lecture du fichier a échoué : {payload}")
            if kind == "end":
                break
            for item in payload:
                if isinstance(item, RawGroup):
                    item.reader = reader
                yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        messages.close()


def _receive(messages: Any, process: Any) -> tuple[str, Any, int]:
    while True:
        if messages.poll(POLL_SECONDS):
            try:
                return messages.recv()
            except (EOFError, OSError):
                break  # it ended, maybe half-way through a message
        elif not process.is_alive() and not messages.poll(0):
            break
    process.join(timeout=POLL_SECONDS)
    raise ImportWorkerError(
        f"le processus de lecture du fichier s'est arrêté (code {process.exitcode})"
    )
