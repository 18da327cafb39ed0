"""A professional's devices, as the account page shows and manages them; the only module that
changes a device's status (revoked here, locked after wrong PINs, unlocked by an
administrator)."""

from __future__ import annotations

from sqlalchemy import select, update

from psc_idp import audit
from psc_idp.extensions import db
from psc_idp.means.ecps.models import DeviceStatus, EcpsDevice
from psc_idp.timeutil import now


def devices_for(national_id: str) -> list[EcpsDevice]:
    query = (
        select(EcpsDevice)
        .where(EcpsDevice.national_id == national_id)
        .order_by(EcpsDevice.created_at.desc())
    )
    return list(db.session.scalars(query))


def revoke(device: EcpsDevice, by: str) -> None:
    if device.status == DeviceStatus.REVOKED:
        return
    device.status = DeviceStatus.REVOKED
    device.revoked_at = now()
    audit.record("device_revoked", device.national_id, device.id, by=by)


def rename(device: EcpsDevice, name: str) -> None:
    device.name = name.strip()[:100] or device.name
    audit.record("device_renamed", device.national_id, device.id, name=device.name)


def lock(device: EcpsDevice) -> None:
    """active → locked, atomically (parallel wrong PINs lock once, audited once)."""
    locked = db.session.execute(
        update(EcpsDevice)
        .where(EcpsDevice.id == device.id, EcpsDevice.status == DeviceStatus.ACTIVE)
        .values(status=DeviceStatus.LOCKED, locked_at=now()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if locked:
        audit.record("device_locked", device.national_id, device.id)


def unlock(device: EcpsDevice, by: str) -> bool:
    """locked → active with its PIN count reset, atomically (the admin console); False if it
    was not locked."""
    unlocked = db.session.execute(
        update(EcpsDevice)
        .where(EcpsDevice.id == device.id, EcpsDevice.status == DeviceStatus.LOCKED)
        .values(status=DeviceStatus.ACTIVE, pin_failures=0, locked_at=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    if unlocked:
        audit.record("device_unlocked", device.national_id, device.id, by=by)
    return bool(unlocked)
