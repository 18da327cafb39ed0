"""``psc-idp ecps activate|pending|approve|deny`` and ``psc-idp outbox``: a phone for scripts
and CI. Its device key lives in a local file; decisions go through the same checks as the
device API (signature, binding message, PIN, single use)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from psc_idp.cli.output import emit, fail
from psc_idp.config import current_settings
from psc_idp.directory.lookup import find_practitioner
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.extensions import db
from psc_idp.means.ecps import outbox, pushes
from psc_idp.means.ecps.activation import complete_card_activation, register_device
from psc_idp.means.ecps.errors import EcpsError
from psc_idp.means.ecps.models import DeviceStatus, EcpsDevice, PushStatus
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from psc_idp.timeutil import iso_utc

ecps_cli = AppGroup("ecps", help="Application e-CPS simulée en ligne de commande.")


def devices_folder() -> Path:
    settings = current_settings()
    return Path(settings.ecps_devices_dir or Path(settings.keys_dir) / "ecps-devices")


def _national_id(value: str) -> str:
    try:
        return validate_national_id(value)
    except InvalidNationalId as error:
        fail(str(error))
    raise AssertionError("unreachable")


@ecps_cli.command("activate")
@click.argument("national_id")
@click.option("--pin", required=True, help="Code PIN à 4 chiffres.")
@click.option("--name", default="e-CPS (ligne de commande)")
@click.option("--json", "as_json", is_flag=True)
def activate(national_id: str, pin: str, name: str, as_json: bool) -> None:
    """Activer une e-CPS dont la clé est gardée dans un fichier local."""
    national_id = _national_id(national_id)
    practitioner = find_practitioner(national_id)
    if practitioner is None or not practitioner.active:
        fail(f"aucun professionnel actif : {national_id}")
    device = VirtualDevice.generate()
    try:
        row = register_device(national_id, pin, device.public_jwk, "cli", name, "cli")
    except EcpsError as error:
        fail(error.message)
    device.device_id, device.national_id = row.id, national_id
    path = device.save(devices_folder())
    db.session.commit()
    emit({"device_id": row.id, "national_id": national_id, "key_file": str(path)}, as_json)


@ecps_cli.command("activate-with-code")
@click.argument("activation_code")
@click.option("--pin", required=True, help="Code PIN à 4 chiffres.")
@click.option("--name", default="e-CPS (ligne de commande)")
@click.option("--json", "as_json", is_flag=True)
def activate_with_code(activation_code: str, pin: str, name: str, as_json: bool) -> None:
    """Activer une e-CPS avec le code affiché par la page « carte CPS » de l'espace personnel."""
    device = VirtualDevice.generate()
    try:
        row = complete_card_activation(
            activation_code,
            pin,
            device.public_jwk,
            device.card_activation_proof(activation_code),
            name,
            "cli",
        )
    except EcpsError as error:
        fail(error.message)
    device.device_id, device.national_id = row.id, row.national_id
    path = device.save(devices_folder())
    db.session.commit()
    emit({"device_id": row.id, "national_id": row.national_id, "key_file": str(path)}, as_json)


@ecps_cli.command("pending")
@click.argument("national_id", required=False)
@click.option("--json", "as_json", is_flag=True)
def pending(national_id: str | None, as_json: bool) -> None:
    """Lister les demandes en attente (d'un professionnel ou de tous)."""
    ids = [_national_id(national_id)] if national_id else _all_with_pending()
    rows = [
        {"national_id": nid, **pushes.describe(push)}
        for nid in ids
        for push in pushes.pending_for(nid)
    ]
    emit(rows, as_json)


def _all_with_pending() -> list[str]:
    from sqlalchemy import select

    from psc_idp.means.ecps.models import EcpsPush

    query = select(EcpsPush.national_id).where(EcpsPush.status == PushStatus.PENDING).distinct()
    return list(db.session.scalars(query))


def _decide(decision: str, national_id: str, request_id: str | None, pin: str, wait: float) -> dict:
    national_id = _national_id(national_id)
    device, row = _local_device(national_id)
    push = _wait_for_request(national_id, request_id, wait)
    token = device.decision(push.id, decision, push.binding_message, pin)
    try:
        status = pushes.decide(row, push.id, token)
    except EcpsError as error:
        fail(f"{error.message} ({error.error})")
    return {"request": push.id, "status": status, "client_name": push.client_name}


def _local_device(national_id: str) -> tuple[VirtualDevice, EcpsDevice]:
    for device in VirtualDevice.all_in(devices_folder(), national_id):
        row = db.session.get(EcpsDevice, device.device_id)
        if row is not None and row.status == DeviceStatus.ACTIVE:
            return device, row
    fail(f"aucune e-CPS active en ligne de commande pour {national_id} : `psc-idp ecps activate`")
    raise AssertionError("unreachable")


def _wait_for_request(national_id: str, request_id: str | None, wait: float):
    deadline = time.monotonic() + wait
    while True:
        candidates = [p for p in pushes.pending_for(national_id) if request_id in (None, p.id)]
        if candidates:
            return candidates[0]  # the newest (pending_for lists newest first)
        if time.monotonic() >= deadline:
            fail(f"aucune demande en attente pour {national_id}")
        db.session.remove()
        time.sleep(0.25)


def _decision_command(decision: str):
    @click.argument("national_id")
    @click.option("--request", "request_id", help="Identifiant de la demande (sinon la dernière).")
    @click.option("--pin", default="", help="Code PIN (obligatoire pour approuver).")
    @click.option("--wait", default=0.0, type=float, help="Attendre une demande (secondes).")
    @click.option("--json", "as_json", is_flag=True)
    def command(national_id: str, request_id: str | None, pin: str, wait: float, as_json: bool):
        if decision == "approve" and not pin:
            fail("--pin est obligatoire pour approuver")
        emit(_decide(decision, national_id, request_id, pin, wait), as_json)

    return command


ecps_cli.command("approve", help="Approuver une demande avec le code PIN.")(
    _decision_command("approve")
)
ecps_cli.command("deny", help="Refuser une demande.")(_decision_command("deny"))


@click.command("outbox")
@click.option("--national-id", default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def outbox_command(national_id: str | None, as_json: bool) -> None:
    """Messages envoyés (courriels et SMS) en mode développement."""
    rows = [
        {
            "at": iso_utc(m.created_at),
            "channel": m.channel,
            "to": m.recipient,
            "national_id": m.national_id,
            "subject": m.subject,
            "body": m.body,
        }
        for m in outbox.latest(national_id)
    ]
    emit(rows, as_json)
