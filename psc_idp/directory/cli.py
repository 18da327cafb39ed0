"""``psc-idp directory …``: look at the sectoral identity store, import Annuaire Santé files,
write synthetic ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from psc_idp.config import current_settings
from psc_idp.directory import codes, synth
from psc_idp.directory.fhir.cli import api_key_cli
from psc_idp.directory.importers import (
    DEFAULT_BATCH_SIZE,
    FORMATS,
    ImportFileError,
    ImportSummary,
    run_import,
)
from psc_idp.directory.importers.pipeline import ImportWorkerError
from psc_idp.directory.importers.progress import TerminalProgress
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.directory.models import Practitioner
from psc_idp.directory.national_id import InvalidNationalId, parse_national_id
from psc_idp.directory.userinfo import build_userinfo

directory_cli = AppGroup("directory", help="Annuaire des professionnels (identités sectorielles).")
directory_cli.add_command(api_key_cli)

#: What ``show`` assumes: a CPS card login by an SP asking for ``openid scope_all``.
SHOW_SCOPES = frozenset({"openid", "scope_all"})
SHOW_AUTH_MODE = "CARD"


def _describe(practitioner: Practitioner, origin: str) -> list[str]:
    """A short French summary: who, whether they may log in, what they practise where."""
    status = "actif" if practitioner.active else "inactif (connexion refusée)"
    lines = [
        f"Identifiant national : {practitioner.national_id} ({origin})",
        f"Nom : {display_name(practitioner)}",
        f"Statut : {status}",
    ]
    for number, exercice in enumerate(practitioner.exercices, start=1):
        what = " — ".join(
            label
            for label in (
                codes.profession_label(exercice.profession),
                codes.label(codes.SAVOIR_FAIRE, exercice.savoir_faire),
            )
            if label
        )
        lines.append(f"Exercice {number} : {what}")
        for activity in exercice.activities:
            where = ", ".join(
                part
                for part in (
                    codes.label(codes.MODES, activity.mode),
                    codes.label(codes.SECTORS, activity.sector),
                    activity.raison_sociale,
                    activity.structure_id,
                )
                if part
            )
            lines.append(f"  - {where}")
    return lines


@directory_cli.command("show")
@click.argument("national_id")
@click.option("--json", "as_json", is_flag=True, help="N'afficher que le JSON de l'userinfo.")
def show(national_id: str, as_json: bool) -> None:
    """Affiche l'userinfo que reçoit le professionnel NATIONAL_ID (carte CPS, scope_all)."""
    try:
        parsed = parse_national_id(national_id)
    except InvalidNationalId as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    practitioner = find_practitioner(parsed.value)
    if practitioner is None:
        click.echo(f"Aucun professionnel d'identifiant national {parsed.value}.", err=True)
        raise SystemExit(1)
    settings = current_settings()
    claims = build_userinfo(
        practitioner,
        sub=settings.sub_prefix + practitioner.national_id,
        auth_mode=SHOW_AUTH_MODE,
        palier=settings.palier_by_auth_mode[SHOW_AUTH_MODE],
        scopes=SHOW_SCOPES,
        profile=settings.userinfo_profile,
    )
    document = json.dumps(claims, ensure_ascii=False, indent=2)
    if not as_json:
        click.echo("\n".join(_describe(practitioner, parsed.origin)))
        click.echo(
            f"\nUserinfo (carte CPS, scopes openid scope_all, profil {settings.userinfo_profile}) :"
        )
    click.echo(document)


def _print_summary(summary: ImportSummary) -> None:
    lines = [f"Format : {summary.source}"]
    if summary.resumed_at is not None:
        lines.append(f"Reprise d'un import interrompu, à la ligne {summary.resumed_at}.")
    lines += [
        f"Lignes lues : {summary.rows + summary.rejected}",
        f"Professionnels créés : {summary.created}",
        f"Professionnels mis à jour : {summary.updated}",
        f"Professionnels inchangés : {summary.unchanged}",
        f"Professionnels désactivés : {summary.deactivated}",
        f"Lignes rejetées : {summary.rejected} (détail : {summary.rejects_path})",
    ]
    if summary.merged:
        lines.append(f"Professionnels aux lignes non contiguës, regroupés : {summary.merged}")
    click.echo("\n".join(lines))


@directory_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Format du fichier ; auto le reconnaît à son en-tête.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Fichier complet : désactive les professionnels importés absents du fichier.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Fichier des rejets (par défaut : FILE.rejets.txt).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 50_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Professionnels par transaction.",
)
@click.option(
    "--parallel/--sequential",
    default=None,
    help="Lire et vérifier les lignes dans un second processus pendant l'écriture (par "
    "défaut : pour un fichier tabulaire de plus de 8 Mo, si un cœur de la machine est libre).",
)
def import_command(
    file: Path,
    file_format: str,
    full: bool,
    rejects_path: Path | None,
    batch_size: int,
    parallel: bool | None,
) -> None:
    """Importe un fichier de l'Annuaire Santé (PS_LibreAcces, extraction Pro Santé Connect
    ou FHIR, éventuellement zippé). Relancer la même commande reprend un import interrompu."""
    progress = TerminalProgress()
    try:
        summary = run_import(
            file,
            wanted=file_format,
            full=full,
            rejects_path=rejects_path,
            batch_size=batch_size,
            progress=progress,
            parallel=parallel,
        )
    except ImportFileError as exc:
        progress.close()
        click.echo(f"Fichier refusé, rien n'a été importé : {exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        progress.close()
        click.echo("Import interrompu : relancez la même commande pour reprendre.", err=True)
        raise SystemExit(130) from None
    except (OSError, SQLAlchemyError, ImportWorkerError) as exc:
        progress.close()
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        click.echo(
            f"Import interrompu ({reason}) : relancez la même commande pour reprendre.", err=True
        )
        raise SystemExit(1) from None
    progress.close()
    _print_summary(summary)


@directory_cli.command("synth")
@click.option("--rows", type=click.IntRange(1), required=True, help="Nombre de lignes.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(synth.FORMATS),
    default="libreacces",
    show_default=True,
    help="Format du fichier produit (fhir : ressources NDJSON, une par ligne ; un Bundle "
    "searchset si --output finit par .json).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Fichier produit (« - » : sortie standard ; .zip : archive comme publiée). "
    "Par défaut, le nom publié par l'Annuaire Santé.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Graine (même graine, même fichier)."
)
def synth_command(rows: int, file_format: str, output: Path | None, seed: int) -> None:
    """Écrit un fichier synthétique réaliste de ROWS lignes (identifiants valides, plusieurs
    exercices et situations par personne), pour les essais et les mesures."""
    if str(output) == "-":
        synth.write(sys.stdout, file_format, rows, seed)
        return
    target = synth.write_file(output, file_format, rows, seed)
    click.echo(f"{rows} lignes écrites dans {target}.", err=True)
