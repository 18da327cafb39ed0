"""Pairings: a provider's local account ↔ a professional's national id, until expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiTiersPairing
from psc_idp.timeutil import now


def current_pairing(alias: str, local_id: str) -> FiTiersPairing | None:
    pairing = db.session.get(FiTiersPairing, (alias, local_id))
    return pairing if pairing is not None and pairing.expires_at > now() else None


def record_pairing(
    alias: str, local_id: str, national_id: str, paired_by: str, lifetime: int
) -> FiTiersPairing:
    """Pair (or pair again, after expiry or removal); the caller commits."""
    pairing = db.session.get(FiTiersPairing, (alias, local_id)) or FiTiersPairing(
        alias=alias, local_id=local_id
    )
    pairing.national_id = national_id
    pairing.paired_by = paired_by
    pairing.created_at = now()
    pairing.expires_at = now() + timedelta(seconds=lifetime)
    db.session.add(pairing)
    return pairing


def pairings(national_id: str | None = None) -> list[FiTiersPairing]:
    query = select(FiTiersPairing).order_by(FiTiersPairing.alias, FiTiersPairing.local_id)
    if national_id is not None:
        query = query.where(FiTiersPairing.national_id == national_id)
    return list(db.session.scalars(query))


def remove_pairing(alias: str, local_id: str, national_id: str | None = None) -> bool:
    """Remove one pairing (only the professional's own when ``national_id`` is given)."""
    query = delete(FiTiersPairing).where(
        FiTiersPairing.alias == alias, FiTiersPairing.local_id == local_id
    )
    if national_id is not None:
        query = query.where(FiTiersPairing.national_id == national_id)
    return db.session.execute(query).rowcount == 1
