"""``psc-idp pairings list|remove``: the pairings of establishments' local accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from psc_idp import audit
from psc_idp.cli.output import emit, fail
from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiTiersPairing
from psc_idp.means.fi_tiers.pairing import pairings, remove_pairing
from psc_idp.timeutil import now

pairings_cli = AppGroup(
    "pairings", help="Associations des comptes d'établissement (FI Tiers) aux identités nationales."
)


def pairing_to_dict(pairing: FiTiersPairing) -> dict[str, str | bool]:
    return {
        "alias": pairing.alias,
        "local_id": pairing.local_id,
        "national_id": pairing.national_id,
        "paired_by": pairing.paired_by,
        "created_at": pairing.created_at.isoformat(),
        "expires_at": pairing.expires_at.isoformat(),
        "expired": pairing.expires_at <= now(),
    }


@pairings_cli.command("list")
@click.option("--national-id", help="Seulement celles de ce professionnel.")
@click.option("--json", "as_json", is_flag=True)
def list_pairings(national_id: str | None, as_json: bool) -> None:
    """Lister les associations (expirées comprises, jusqu'à la purge)."""
    emit([pairing_to_dict(p) for p in pairings(national_id)], as_json)


@pairings_cli.command("remove")
@click.argument("alias")
@click.argument("local_id")
def remove(alias: str, local_id: str) -> None:
    """Supprimer une association : la prochaine connexion de ce compte demandera à nouveau
    l'identité nationale."""
    national_id = next(
        (p.national_id for p in pairings() if (p.alias, p.local_id) == (alias, local_id)), None
    )
    if national_id is None or not remove_pairing(alias, local_id):
        fail(f"Aucune association pour {alias} / {local_id}.")
    audit.record("fi_tiers_unpaired", national_id, alias=alias, by="cli")
    db.session.commit()
    click.echo(f"Association {alias} / {local_id} supprimée.")
