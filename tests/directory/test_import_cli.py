"""``psc-idp directory import`` and ``synth``: French summary, clear refusals, quiet pipes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from psc_idp.directory import synth
from psc_idp.directory.cli import directory_cli
from psc_idp.directory.importers import run_import
from psc_idp.directory.importers.progress import TerminalProgress
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.synth import national_id
from tests.directory.import_files import LAYOUTS, row, rpps, write


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    app.cli.add_command(directory_cli)
    return app.test_cli_runner()


def test_import_prints_a_french_summary_and_nothing_on_a_pipe(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path / "f.txt", LAYOUTS["libreacces-56"], [row(rpps(70)), row("8000")])
    result = runner.invoke(args=["directory", "import", str(path), "--full"])
    assert result.exit_code == 0, result.output
    assert "Format : libreacces (56 colonnes)" in result.stdout
    assert "Lignes lues : 2" in result.stdout
    assert "Professionnels créés : 1" in result.stdout
    assert f"Lignes rejetées : 1 (détail : {path}.rejets.txt)" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_a_refused_file_says_why_without_a_traceback(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "f.txt"
    path.write_text("Nom|Prénom|\n", encoding="utf-8")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert "Fichier refusé, rien n'a été importé : En-tête non reconnu" in result.stderr
    assert "Traceback" not in result.output


def test_synth_writes_a_zip_as_published_which_imports(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    archive = tmp_path / "extract.zip"
    args = ["directory", "synth", "--rows", "40", "--format", "psc-extract", "--output"]
    result = runner.invoke(args=[*args, str(archive)])
    assert result.exit_code == 0, result.output
    [member] = zipfile.ZipFile(archive).namelist()
    assert member.startswith("Extraction_ProSanteConnect_Personne_activite_")
    imported = runner.invoke(args=["directory", "import", str(archive)])
    assert "psc-extract (51 colonnes), compressé" in imported.stdout
    assert "Lignes rejetées : 0" in imported.stdout
    assert find_practitioner(national_id(1)).email.endswith("@exemple.test")


def test_synth_is_reproducible(runner: FlaskCliRunner) -> None:
    args = ["directory", "synth", "--rows", "25", "--output", "-", "--seed", "5"]
    first, second = runner.invoke(args=args), runner.invoke(args=args)
    assert first.stdout == second.stdout and first.stdout.count("\n") == 26


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_rows_rate_and_eta_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = TerminalProgress(stream, interval=0)
        progress(1000, 250, 1000)
        progress(4000, 1000, 1000)
        progress.close()
    assert "25 %" in terminal.getvalue() and "1\u202f000 lignes" in terminal.getvalue()
    assert "lignes/s" in terminal.getvalue() and "reste" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_progress_counts_rows_not_persons(app: Flask, tmp_path: Path) -> None:
    calls: list[tuple[int, int, int]] = []
    path = synth.write_file(tmp_path / "s.txt", "libreacces", 1500, seed=2)
    summary = run_import(path, progress=lambda *call: calls.append(call))
    assert summary.created < 1500
    assert calls[-1] == (1500, path.stat().st_size, path.stat().st_size)
    assert [rows for rows, _, _ in calls] == sorted(rows for rows, _, _ in calls)
