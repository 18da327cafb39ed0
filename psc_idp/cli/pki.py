"""``psc-idp cps issue|revoke|list`` (test CPS cards as files) and ``psc-idp pki issue-org|show``
(ORG AUTH_CLI certificates, the hierarchy and the TLS server certificate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from cryptography import x509
from flask.cli import AppGroup
from sqlalchemy import select

from psc_idp.cli.output import emit, fail
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.pki import (
    REVOCATION_REASONS,
    IssuedCertificate,
    PkiError,
    get_hierarchy,
    issue_card,
    issue_org,
    revoke,
)
from psc_idp.pki.certs import crl_url
from psc_idp.pki.models import PkiCertificate
from psc_idp.pki.names import colon_fingerprint, dn_string
from psc_idp.pki.settings import pki_setting

cps_cli = AppGroup("cps", help="Cartes CPS de test : certificats d'authentification en fichiers.")
pki_cli = AppGroup("pki", help="IGC de test : autorités, certificats d'organisation, TLS.")

STATUS_FR = {"valid": "valide", "revoked": "révoqué", "expired": "expiré"}


def _password(given: str | None) -> str:
    return pki_setting("pki_p12_default_password") if given is None else given


def _written(issued: IssuedCertificate, out: str, password: str, stem: str | None) -> dict:
    paths = issued.write_files(
        out,
        p12_password=password,
        encryption=pki_setting("pki_p12_encryption"),
        stem=stem,
    )
    return {
        "serial": issued.serial,
        "subject": issued.subject_dn,
        "not_after": issued.certificate.not_valid_after_utc.isoformat(),
        "sha256_thumbprint": issued.sha256_thumbprint,
        "files": {kind: str(path) for kind, path in paths.items()},
        "p12_password": password,
    }


@cps_cli.command("issue")
@click.argument("national_id")
@click.option("--out", default=".", show_default=True, help="Dossier des fichiers produits.")
@click.option("--p12-password", help="Mot de passe du PKCS#12 (défaut : réglage).")
@click.option("--days", type=click.IntRange(1, 3650), help="Durée de validité en jours.")
@click.option(
    "--not-before",
    type=click.DateTime(),
    help="Début de validité (tests : carte pas encore valide).",
)
@click.option("--not-after", type=click.DateTime(), help="Fin de validité (tests : carte expirée).")
@click.option("--json", "as_json", is_flag=True)
def cps_issue(
    national_id: str,
    out: str,
    p12_password: str | None,
    days: int | None,
    not_before,
    not_after,
    as_json: bool,
) -> None:
    """Émettre une carte CPS de test pour NATIONAL_ID (professionnel de l'annuaire).

    Écrit <id>.crt.pem, <id>.key.pem, <id>.chain.pem et <id>.p12 (à importer dans le
    navigateur)."""
    try:
        issued = issue_card(
            national_id,
            validity_days=days,
            not_before=_utc(not_before),
            not_after=_utc(not_after),
        )
    except PkiError as error:
        fail(str(error))
    db.session.commit()
    emit(
        {"national_id": issued.national_id, **_written(issued, out, _password(p12_password), None)},
        as_json,
    )


def _utc(moment):
    """Dates typed on the command line are UTC."""
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment is not None else None


@cps_cli.command("revoke")
@click.argument("serial_or_national_id")
@click.option(
    "--reason",
    type=click.Choice(sorted(REVOCATION_REASONS)),
    default="unspecified",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True)
def cps_revoke(serial_or_national_id: str, reason: str, as_json: bool) -> None:
    """Révoquer un certificat (numéro de série) ou toutes les cartes valides d'un
    identifiant national. La CRL est mise à jour aussitôt."""
    try:
        revoked = revoke(serial_or_national_id, REVOCATION_REASONS[reason])
    except PkiError as error:
        fail(str(error))
    db.session.commit()
    if not revoked:
        fail(f"Aucun certificat valide à révoquer pour « {serial_or_national_id} ».")
    rows = [{"serial": r.serial, "kind": r.kind, "subject": r.subject_dn} for r in revoked]
    if as_json:
        emit(rows, True)
        return
    for row in rows:
        click.echo(f"révoqué : {row['serial']}  {row['subject']}")


@cps_cli.command("list")
@click.argument("national_id", required=False)
@click.option("--json", "as_json", is_flag=True)
def cps_list(national_id: str | None, as_json: bool) -> None:
    """Lister les cartes émises (toutes, ou celles de NATIONAL_ID)."""
    query = select(PkiCertificate).where(PkiCertificate.kind == "card")
    if national_id:
        query = query.where(PkiCertificate.national_id == national_id.strip().upper())
    rows = [
        {
            "serial": row.serial,
            "national_id": row.national_id,
            "status": row.status(),
            "not_after": row.not_after.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            "subject": row.subject_dn,
        }
        for row in db.session.scalars(query.order_by(PkiCertificate.created_at))
    ]
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo("Aucune carte émise.")
    for row in rows:
        status = STATUS_FR[row["status"]]
        click.echo(f"{row['serial']}  {row['national_id']:<20} {status:<8} {row['not_after']}")


@pki_cli.command("issue-org")
@click.option("--structure-id", required=True, help="Identifiant de la structure (OU).")
@click.option("--name", required=True, help="Raison sociale (O).")
@click.option("--service", default="ORG AUTH_CLI", show_default=True, help="Nom du service (CN).")
@click.option("--out", default=".", show_default=True, help="Dossier des fichiers produits.")
@click.option("--p12-password", help="Mot de passe du PKCS#12 (défaut : réglage).")
@click.option("--days", type=click.IntRange(1, 3650), help="Durée de validité en jours.")
@click.option("--json", "as_json", is_flag=True)
def pki_issue_org(
    structure_id: str,
    name: str,
    service: str,
    out: str,
    p12_password: str | None,
    days: int | None,
    as_json: bool,
) -> None:
    """Émettre un certificat d'organisation ORG AUTH_CLI (authentification TLS d'un logiciel)."""
    try:
        issued = issue_org(structure_id, name, service, validity_days=days)
    except PkiError as error:
        fail(str(error))
    db.session.commit()
    stem = f"{structure_id}-{service}"
    emit(
        {
            "structure_id": issued.structure_id,
            **_written(issued, out, _password(p12_password), stem),
        },
        as_json,
    )


@pki_cli.command("show")
@click.option("--json", "as_json", is_flag=True)
def pki_show(as_json: bool) -> None:
    """Afficher les autorités (sujet, empreinte, URL de CRL) et le certificat TLS du serveur."""
    hierarchy = get_hierarchy()
    base = current_settings().base_url.rstrip("/")
    authorities = [
        {
            "slug": a.slug,
            "subject": dn_string(a.certificate.subject),
            "sha256": colon_fingerprint(a.certificate),
            "not_after": a.certificate.not_valid_after_utc.isoformat(),
            "certificate": str(a.cert_path),
            "certificate_url": f"{base}/pki/ca/{a.slug}.pem",
            "crl_url": crl_url(base, a.slug),
        }
        for a in hierarchy.authorities
    ]
    server = hierarchy.server_certificate
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    data: dict[str, Any] = {
        "folder": str(hierarchy.folder),
        "authorities": authorities,
        "ca_bundle": str(hierarchy.bundle_path),
        "tls_server": {
            "certificate": str(hierarchy.server_cert_path),
            "fullchain": str(hierarchy.server_fullchain_path),
            "private_key": str(hierarchy.server_key_path),
            "names": [str(n.value) for n in names],
            "sha256": colon_fingerprint(server),
            "not_after": server.not_valid_after_utc.isoformat(),
        },
        "extra_trust_anchors": [str(Path(p)) for p in pki_setting("pki_extra_trust_anchors")],
    }
    emit(data, as_json)
