"""Opening an import file: plain or zipped (as published), its hash, its format.

Everything here happens before a row is written: a file whose structure is wrong (unknown
header, undecodable header, corrupt or ambiguous zip) is refused with :class:`ImportFileError`.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from psc_idp.directory.importers import libreacces, psc_extract
from psc_idp.directory.importers.tabular import Layout, normalise_header

FORMATS = ("auto", "libreacces", "psc-extract", "fhir")
_LAYOUTS = (*libreacces.LAYOUTS, *psc_extract.LAYOUTS)
_KNOWN = {tuple(normalise_header(h) for h in layout.headers): layout for layout in _LAYOUTS}
_MEMBER_SUFFIXES = (".txt", ".csv", ".json", ".ndjson")


class ImportFileError(Exception):
    """The file cannot be imported at all; the message is French and says why."""


@dataclass
class Source:
    path: Path
    sha256: str
    format: str  # libreacces, psc-extract, fhir
    layout: Layout | None  # for the pipe-separated formats
    size: int  # uncompressed bytes
    member: str | None = None  # name inside the zip
    bytes_read: int = field(default=0)

    @property
    def description(self) -> str:
        what = f"{self.format} ({self.layout.variant})" if self.layout else self.format
        return f"{what}{', compressé' if self.member else ''}"

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.member is None:
            with self.path.open("rb") as handle:
                yield handle
            return
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as handle:
            yield handle  # type: ignore[misc]

    def lines(self) -> Iterator[tuple[int, str | None]]:
        """(line number, text) of every row after the header; ``None`` for a line that is not
        UTF-8. Line numbers count from 1 (the header)."""
        with self.open() as handle:
            reader = io.BufferedReader(handle, 1 << 20) if self.member else handle
            header = reader.readline()
            self.bytes_read = len(header)
            for number, raw in enumerate(reader, start=2):
                self.bytes_read += len(raw)
                raw = raw.rstrip(b"\r\n")
                if not raw.strip():
                    continue
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield number, None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _zip_member(path: Path) -> tuple[str, int]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and info.filename.lower().endswith(_MEMBER_SUFFIXES)
            ]
            if len(members) > 1:
                # The published archive also holds the diploma and savoir-faire files.
                members = [m for m in members if "personne_activite" in m.filename.lower()]
            if len(members) != 1:
                raise ImportFileError(
                    "L'archive doit contenir un seul fichier .txt, .json ou .ndjson, ou un seul "
                    "fichier …Personne_activite… parmi d'autres."
                )
            # Check every CRC now, so a corrupt archive is refused before anything is written.
            if archive.testzip() is not None:
                raise ImportFileError("Archive corrompue (somme de contrôle incorrecte).")
            return members[0].filename, members[0].file_size
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as exc:
        raise ImportFileError(f"Archive illisible : {exc}.") from None


def _detect(first: bytes) -> tuple[str, Layout | None]:
    stripped = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "fhir", None
    line = first.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("En-tête illisible : le fichier n'est pas en UTF-8.") from None
    cells = header.split("|")
    if cells and not cells[-1].strip():
        cells.pop()
    layout = _KNOWN.get(tuple(normalise_header(cell) for cell in cells))
    if layout is None:
        raise ImportFileError(
            f"En-tête non reconnu ({len(cells)} colonnes) : attendu l'en-tête d'un fichier "
            "PS_LibreAcces (56 ou 52 colonnes), d'une extraction Pro Santé Connect (49 ou 51 "
            "colonnes) ou un Bundle FHIR (JSON ou NDJSON)."
        )
    return layout.format, layout


def open_source(path: Path, wanted: str = "auto") -> Source:
    """Inspect ``path``; raise :class:`ImportFileError` if it cannot be imported."""
    if not path.is_file():
        raise ImportFileError(f"Fichier introuvable : {path}.")
    member, size = None, path.stat().st_size
    if zipfile.is_zipfile(path):
        member, size = _zip_member(path)
    source = Source(path, _sha256(path), "", None, size, member)
    with source.open() as handle:
        first = handle.read(64 * 1024)
    if not first.strip():
        raise ImportFileError("Fichier vide.")
    source.format, source.layout = _detect(first)
    if wanted not in ("auto", source.format):
        raise ImportFileError(
            f"Le fichier est au format {source.format}, pas {wanted} (voir --format)."
        )
    return source
