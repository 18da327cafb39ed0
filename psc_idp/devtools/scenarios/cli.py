"""``psc-idp scenarios add|list|remove`` and ``psc-idp token issue``: thin layers over
``store``, ``rules`` and ``mint``. A scenario that cannot be is refused with exit status 2."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from psc_idp.cli.output import Refused, emit
from psc_idp.config import current_settings
from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.mint import AUTH_MODES, MintRefused, mint
from psc_idp.devtools.scenarios.rules import ENDPOINTS, ScenarioInvalid, check
from psc_idp.extensions import db
from psc_idp.protocol.models import Client

scenarios_cli = AppGroup("scenarios", help="Scénarios d'erreur par client (développement).")
token_cli = AppGroup("token", help="Jetons sans navigateur (développement).")

#: CLI option → effect, for the options that take a value.
VALUED = {
    "error": "error",
    "status": "status",
    "delay": "delay",
    "drop_claim": "drop_claim",
    "rename_claim": "rename_claim",
    "acr": "acr",
    "userinfo_profile": "userinfo_profile",
    "ciba_outcome": "ciba_outcome",
}


@scenarios_cli.command("add")
@click.option("--client", "client_id", required=True, help="Client concerné.")
@click.option("--national-id", default=None, help="Seulement pour ce professionnel.")
@click.option("--endpoint", required=True, help=f"Point d'accès : {', '.join(ENDPOINTS)}.")
@click.option("--error", default=None, help="Erreur OAuth à répondre (ex. access_denied).")
@click.option("--status", default=None, help="Statut HTTP à répondre (400 à 599).")
@click.option("--delay", default=None, help="Attente avant la réponse normale (≤ 30 s).")
@click.option("--drop-claim", default=None, help="Claim retiré (token : jetons ; userinfo).")
@click.option("--rename-claim", default=None, help="Claim renommé : ANCIEN=NOUVEAU.")
@click.option("--acr", default=None, help="acr des jetons autre que celui demandé (token).")
@click.option("--userinfo-profile", default=None, help="Forme ancienne de UserInfo : 2023, 2021.")
@click.option("--expired-token", is_flag=True, help="Jetons déjà expirés (token).")
@click.option("--wrong-signature", is_flag=True, help="Jetons signés hors JWKS (token).")
@click.option("--ciba-outcome", default=None, help="Demande CIBA : denied ou expired (ciba).")
@click.option("--json", "as_json", is_flag=True)
def add(
    client_id: str,
    national_id: str | None,
    endpoint: str,
    expired_token: bool,
    wrong_signature: bool,
    as_json: bool,
    **valued: str | None,
) -> None:
    """Ajouter un scénario (un seul effet)."""
    chosen: list[tuple[str, Any]] = [
        (VALUED[name], value) for name, value in valued.items() if value is not None
    ]
    flags = {"expired_token": expired_token, "wrong_signature": wrong_signature}
    chosen += [(name, True) for name, on in flags.items() if on]
    if len(chosen) != 1:
        raise Refused(
            "un effet et un seul : --error, --status, --delay, --drop-claim, --rename-claim,"
            " --acr, --userinfo-profile, --expired-token, --wrong-signature ou --ciba-outcome."
        )
    effect, value = chosen[0]
    try:
        row, changed = store.add(check(client_id, national_id, endpoint, effect, value))
    except ScenarioInvalid as error:
        raise Refused(str(error)) from None
    db.session.commit()
    data = store.as_dict(row)
    data["changed"] = changed
    if not current_settings().scenarios_enabled:
        click.echo("Attention : PSC_SCENARIOS est désactivé, ce scénario est sans effet.", err=True)
    emit(data, as_json)


@scenarios_cli.command("list")
@click.option("--client", "client_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def list_command(client_id: str, as_json: bool) -> None:
    """Lister les scénarios d'un client."""
    _known(client_id)
    emit([store.as_dict(row) for row in store.for_client(client_id)], as_json)


@scenarios_cli.command("remove")
@click.option("--client", "client_id", required=True)
@click.option("--id", "scenario_id", default=None, help="Ce scénario ; sinon tous ceux du client.")
@click.option("--json", "as_json", is_flag=True)
def remove(client_id: str, scenario_id: str | None, as_json: bool) -> None:
    """Retirer un scénario (--id) ou tous ceux du client."""
    _known(client_id)
    removed = store.remove(client_id, scenario_id)
    if scenario_id is not None and removed == 0:
        raise Refused(f"aucun scénario {scenario_id} pour {client_id}.")
    db.session.commit()
    emit({"client_id": client_id, "removed": removed}, as_json)


def _known(client_id: str) -> None:
    if db.session.get(Client, client_id) is None:
        raise Refused(f"client inconnu : {client_id}")


@token_cli.command("issue")
@click.argument("national_id")
@click.option("--client", "client_id", required=True)
@click.option("--auth-mode", default="CARD", type=click.Choice(AUTH_MODES))
@click.option("--scope", default=None, help="Scopes demandés (défaut : openid).")
@click.option("--json", "as_json", is_flag=True)
def issue(
    national_id: str, client_id: str, auth_mode: str, scope: str | None, as_json: bool
) -> None:
    """Émettre les jetons d'une connexion de ce professionnel, sans navigateur."""
    try:
        token = mint(national_id, client_id, auth_mode, scope)
    except MintRefused as error:
        raise Refused(str(error)) from None
    emit(token, as_json)
