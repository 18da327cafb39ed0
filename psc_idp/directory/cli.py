"""``psc-idp directory …``: look at the sectoral identity store from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from psc_idp.config import current_settings
from psc_idp.directory import codes
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.directory.models import Practitioner
from psc_idp.directory.national_id import InvalidNationalId, parse_national_id
from psc_idp.directory.userinfo import build_userinfo

directory_cli = AppGroup("directory", help="Annuaire des professionnels (identités sectorielles).")

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
