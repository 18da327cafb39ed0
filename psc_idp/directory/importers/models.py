"""What an Annuaire Santé import keeps in the database: its runs, and who each run has seen.

A run is one import of one file (identified by its SHA-256). It commits per batch of persons
and records the position reached, so a crashed import resumes where it stopped; the persons a
run has applied are listed in ``dir_import_seen``, which tells a person met again later in an
unsorted file from a new one, and which a ``--full`` import uses to deactivate the absent.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now


class RunStatus(enum.Enum):
    running = "running"  # batches being applied; resumable after a crash
    done = "done"  # every batch applied (and, if full, the absent deactivated)


class ImportRun(db.Model):
    __tablename__ = "dir_import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    file_format: Mapped[str] = mapped_column(String(32), nullable=False)
    full: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16), nullable=False, default=RunStatus.running
    )
    # Position (line, or FHIR resource number) of the first item not yet applied.
    next_position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ImportSeen(db.Model):
    """A person applied by a run (removed when the run is done)."""

    __tablename__ = "dir_import_seen"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("dir_import_run.id", ondelete="CASCADE"), primary_key=True
    )
    national_id: Mapped[str] = mapped_column(String(64), primary_key=True)
