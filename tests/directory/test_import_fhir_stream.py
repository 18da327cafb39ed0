"""FHIR files are read as a stream: any order of resources, several Bundles, a BOM, zipped; a
file that does not parse to its end is refused before anything is written; resources are
handed over while the file is still being read."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from psc_idp.directory import synth
from psc_idp.directory.importers import ImportFileError, run_import
from psc_idp.directory.importers.fhir_stream import FhirJsonError, resources
from psc_idp.directory.importers.models import ImportRun
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from tests.directory.import_files import fhir_bundle, rpps


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _reordered(national_id: str) -> dict:
    """The test bundle with its roles first, its practitioner last and every object's keys
    reversed (JSON does not order them; ``resourceType`` need not come first)."""
    bundle = fhir_bundle(national_id)
    bundle["entry"].reverse()

    def reverse(value):
        if isinstance(value, dict):
            return {key: reverse(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(item) for item in value]
        return value

    return reverse(bundle)


def test_roles_and_organizations_before_their_practitioner_are_found(
    app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_reordered(rpps(60))), encoding="utf-8")
    summary = run_import(path)
    assert (summary.created, summary.rejected) == (1, 0)
    activity = find_practitioner(rpps(60)).exercices[0].activities[0]
    assert (activity.raison_sociale, activity.sector) == ("HOPITAL DE TEST", "SA01")


def test_several_bundles_in_an_array_or_one_after_the_other(app: Flask, tmp_path: Path) -> None:
    first, second, third = fhir_bundle(rpps(61)), fhir_bundle(rpps(62)), fhir_bundle(rpps(63))
    for index, bundle in enumerate((second, third)):  # distinct ids, as pages of the API
        for entry in bundle["entry"]:
            resource = entry["resource"]
            resource["id"] = f"{resource['id']}-{index}"
            for key in ("practitioner", "organization"):
                if key in resource:
                    resource[key]["reference"] += f"-{index}"
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([first, second]) + "\n" + json.dumps(third), encoding="utf-8")
    summary = run_import(path)
    assert (summary.created, summary.rejected) == (3, 0)


def test_a_byte_order_mark_and_a_zip_are_read(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "annuaire.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("export.json", b"\xef\xbb\xbf" + json.dumps(fhir_bundle(rpps(64))).encode())
    summary = run_import(archive)
    assert (summary.source, summary.created) == ("fhir, compressé", 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\n".join([b'{"resourceType": "Practitioner", "id": "a"}'] * 3) + b'\n{"resou', "JSON"),
        ('{"resourceType": "Practitioner", "name": "É"}'.encode("latin-1"), "pas en UTF-8"),
        (b'{"resourceType": "Bundle", "entry": [' + b"[" * 200 + b"]" * 200 + b"]}", "imbriqué"),
    ],
    ids=["truncated", "latin-1", "too-deep"],
)
def test_a_file_that_does_not_parse_to_its_end_is_refused_before_any_write(
    app: Flask, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.ndjson"
    good = json.dumps(fhir_bundle(rpps(65))).encode()
    path.write_bytes(good + b"\n" + content)
    with pytest.raises(ImportFileError, match=message):
        run_import(path)
    assert _count(Practitioner) == 0  # the good bundle before the error is not applied
    assert _count(ImportRun) == 0


class _Slow(io.RawIOBase):
    """A file read in small pieces, telling how far it has been read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.data[self.offset : self.offset + min(len(buffer), 4096)]
        buffer[: len(piece)] = piece
        self.offset += len(piece)
        return len(piece)


def test_resources_of_a_bundle_come_out_while_the_file_is_being_read() -> None:
    out = io.StringIO()
    synth.write(out, "fhir", 3000, bundle=True)
    data = out.getvalue().encode()
    source = _Slow(data)
    stream, reader = resources(source)
    first = next(stream)
    assert first["resourceType"] == "Practitioner"
    assert source.offset < len(data) // 20  # not the whole Bundle first
    rest = sum(1 for _ in stream)
    assert reader.count == len(data) and rest > 3000


def test_a_synthetic_bundle_imports_like_the_same_ndjson(app: Flask, tmp_path: Path) -> None:
    bundle = synth.write_file(tmp_path / "s.json", "fhir", 400)
    ndjson = synth.write_file(tmp_path / "s.ndjson", "fhir", 400)
    assert bundle.read_text(encoding="utf-8").startswith('{"resourceType":"Bundle"')
    first = run_import(bundle)
    assert first.rejected == 0 and first.created > 150
    again = run_import(ndjson)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)


def test_a_value_that_is_not_json_raises_the_french_error() -> None:
    stream, _ = resources(io.BytesIO(b'{"resourceType": "Practitioner", "id": tru}'))
    with pytest.raises(FhirJsonError, match="JSON illisible"):
        list(stream)


def test_progress_is_shown_during_the_first_pass_too(app: Flask, tmp_path: Path) -> None:
    path = synth.write_file(tmp_path / "s.json", "fhir", 3000)
    calls: list[tuple[int, int, int]] = []
    run_import(path, progress=lambda *call: calls.append(call))
    size = path.stat().st_size
    indexing = [done for rows, done, _ in calls if rows == 0]
    assert indexing and max(indexing) <= size // 2  # the first pass is the first half
    assert calls[-1] == (3000, size, size)
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)
